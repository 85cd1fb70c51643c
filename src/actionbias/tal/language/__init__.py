"""ActionVLM's language branch: descriptions, language models, language advantage.

`descriptions` holds the paper's THUMOS14 class descriptions and LLM generation
for new classes (the offline MiniLM sentence encoder that embeds them is
`actionbias.models.text_encoder`); `model` the language models that turn
per-frame vision tokens into F_lang,cls, F_lang,loc and F_adv; `advantage`
Algorithm 1 (alternating epochs, advantage targets, lambda, residual
aggregation, trainer); `ablations` the named weighting variants.
Submodules are imported directly so that importing the package stays cheap.
"""
