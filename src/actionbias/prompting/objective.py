"""The number prompt tuning maximises: a weighted sum of SHAcc and SBErr.

The paper optimises for two things at once (more human-action answers, fewer
scene answers); the default ``shacc - sberr`` rewards both equally. Users who
care about one side can say ``shacc``, ``-sberr`` or ``shacc - 0.5*sberr``.
The objective is part of a tuning run's identity: the optimiser sees history
sorted by it, so changing it mid-run would mix two searches.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from actionbias.errors import BadInputError

DEFAULT_OBJECTIVE = "shacc - sberr"

_TERM = re.compile(r"([+-]?)\s*(?:(\d+(?:\.\d*)?|\.\d+)\s*\*?\s*)?(shacc|sberr)", re.IGNORECASE)


@dataclass(frozen=True)
class Objective:
    """``w_shacc * SHAcc + w_sberr * SBErr`` (both as fractions); higher is better."""

    w_shacc: float = 1.0
    w_sberr: float = -1.0

    @classmethod
    def parse(cls, text: str) -> Objective:
        """``"shacc - sberr"``, ``"shacc"``, ``"-sberr"``, ``"2*shacc - 0.5 sberr"`` ..."""
        compact = re.sub(r"\s+", "", str(text).casefold())
        if not compact:
            raise BadInputError("empty objective", where="--objective")
        weights = {"shacc": 0.0, "sberr": 0.0}
        position = 0
        for match in _TERM.finditer(compact):
            if match.start() != position or (position > 0 and not match.group(1)):
                break
            sign = -1.0 if match.group(1) == "-" else 1.0
            weight = float(match.group(2)) if match.group(2) else 1.0
            weights[match.group(3)] += sign * weight
            position = match.end()
        if position != len(compact) or position == 0:
            raise BadInputError(
                f"cannot read objective {text!r}: write terms of shacc and sberr such as "
                "'shacc - sberr', 'shacc', '-sberr' or 'shacc - 0.5*sberr'",
                where="--objective",
            )
        if weights["shacc"] == 0.0 and weights["sberr"] == 0.0:
            raise BadInputError(f"objective {text!r} weighs nothing", where="--objective")
        return cls(weights["shacc"], weights["sberr"])

    def __call__(self, shacc: float, sberr: float) -> float:
        return self.w_shacc * float(shacc) + self.w_sberr * float(sberr)

    def describe(self) -> str:
        """Canonical text (stored in the run's config, shown to the optimiser)."""
        parts = []
        for weight, name in ((self.w_shacc, "SHAcc"), (self.w_sberr, "SBErr")):
            if weight == 0:
                continue
            sign = "-" if weight < 0 else "+"
            size = abs(weight)
            term = name if size == 1 else f"{size:g}*{name}"
            parts.append((sign, term))
        text = "".join(f" {s} {t}" for s, t in parts).strip()
        return text[2:] if text.startswith("+ ") else text.replace("- ", "-", 1)
