"""Moved to `actionbias.data.predictions` (the predictions format is a data format).

Kept so that ``from actionbias.audit.predictions import ...`` goes on working.
"""

from actionbias.data.predictions import (
    NO_ANSWER,
    REQUIRED_FIELDS,
    SOURCE_FIELDS,
    PredictionTable,
    has_person_flag,
    read_predictions,
    write_predictions,
)

__all__ = [
    "NO_ANSWER",
    "REQUIRED_FIELDS",
    "SOURCE_FIELDS",
    "PredictionTable",
    "has_person_flag",
    "read_predictions",
    "write_predictions",
]
