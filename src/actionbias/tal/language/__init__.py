"""ActionVLM's language branch: descriptions, language models, language advantage.

`descriptions` holds the paper's THUMOS14 class descriptions and LLM generation
for new classes (the offline MiniLM sentence encoder that embeds them is
`actionbias.models.text_encoder`); `model` the language models that turn
per-frame vision tokens into F_lang,cls, F_lang,loc and F_adv; `aggregation`
the `ActionVLM` module (lambda and the residual aggregation); `advantage` what
the advantage learns from (per-frame losses, class-wise vision-loss means,
targets); `trainer` Algorithm 1's alternating epochs; `ablations` the named
weighting variants.
Submodules are imported directly so that importing the package stays cheap.
"""
