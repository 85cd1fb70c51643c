"""How the language features are weighted: the full model and the paper's ablations (Tables 2, 4).

One frozen dataclass per variant so an experiment is named by a string
(`ablation_config("fixed-0.4")`) and recorded with its run. The variants:

* `full`: per-frame lambda = 2*sigmoid(ReLU(FC(F_adv))) - 1 with L_adv (Eqs. 2-4),
  alternating vision-only / vision-language epochs for the advantage target.
* `fixed-1.0` ... `fixed-0.0`: a constant lambda (0.0 keeps the language model in
  the graph, unlike `vision-only`, so L_tg still trains it).
* `llm-lambda-no-adv`: per-frame lambda from FC(F_adv) learned by the detection
  loss alone (Table 4, "LLM-generated lambda w/o L_adv").
* `global-lambda`: one learnable scalar lambda = sigmoid(w) shared by all frames
  (Table 4, "learnable lambda w/o L_adv").
* `language-only`: the detector reads F_lang,cls / F_lang,loc without F_vis (Table 2).
* `vision-only`: the language model is skipped (Table 2's vision-only row).
"""

from __future__ import annotations

from dataclasses import dataclass

LAMBDA_MODES = ("advantage", "fixed", "global", "none")


@dataclass(frozen=True)
class AblationConfig:
    """What the aggregation does and which auxiliary losses are on."""

    name: str
    lambda_mode: str = "advantage"  # advantage | fixed | global | none (vision only)
    fixed_lambda: float = 0.0
    use_adv_loss: bool = True
    use_tg_loss: bool = True
    use_vision: bool = True  # False: language-only (F_cls = F_lang,cls)

    def __post_init__(self) -> None:
        if self.lambda_mode not in LAMBDA_MODES:
            raise ValueError(f"lambda_mode must be one of {LAMBDA_MODES}, not {self.lambda_mode!r}")
        if not 0.0 <= self.fixed_lambda <= 1.0:
            raise ValueError(f"fixed_lambda must be in [0, 1], got {self.fixed_lambda}")
        if self.use_adv_loss and self.lambda_mode != "advantage":
            raise ValueError("L_adv only makes sense with lambda_mode='advantage'")
        if not self.use_vision and self.lambda_mode == "none":
            raise ValueError("a model with neither vision nor language features has no input")

    @property
    def uses_language(self) -> bool:
        return self.lambda_mode != "none"

    @property
    def needs_vision_epochs(self) -> bool:
        """Only the advantage target needs the class-wise vision-only losses."""
        return self.use_adv_loss


def _build() -> dict[str, AblationConfig]:
    table = [
        AblationConfig("full"),
        AblationConfig("llm-lambda-no-adv", use_adv_loss=False),
        AblationConfig("global-lambda", lambda_mode="global", use_adv_loss=False),
        AblationConfig("no-tg", use_tg_loss=False),
        AblationConfig(
            "language-only",
            lambda_mode="fixed",
            fixed_lambda=1.0,
            use_adv_loss=False,
            use_vision=False,
        ),
        AblationConfig("vision-only", lambda_mode="none", use_adv_loss=False, use_tg_loss=False),
    ]
    for value in (1.0, 0.8, 0.6, 0.4, 0.2, 0.0):
        table.append(
            AblationConfig(f"fixed-{value:.1f}", "fixed", fixed_lambda=value, use_adv_loss=False)
        )
    return {c.name: c for c in table}


ABLATIONS: dict[str, AblationConfig] = _build()


def ablation_config(name: str) -> AblationConfig:
    """The named variant (``fixed-X`` for any X in [0, 1] too); ValueError listing the known
    names otherwise."""
    if name in ABLATIONS:
        return ABLATIONS[name]
    if name.startswith("fixed-"):
        try:
            value = float(name.removeprefix("fixed-"))
        except ValueError:
            value = -1.0
        if 0.0 <= value <= 1.0:
            return AblationConfig(name, "fixed", fixed_lambda=value, use_adv_loss=False)
    raise ValueError(
        f"unknown ablation {name!r}; known: {', '.join(ABLATIONS)}, or fixed-X with X in [0, 1]"
    )
