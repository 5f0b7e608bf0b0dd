"""Free Chinese case text to a minor class of the case taxonomy, with a confidence.

``load_default().predict(text)`` returns a :class:`Prediction`; when its confidence is below
:data:`TRIAGE_THRESHOLD` (``prediction.needs_triage``) the case goes to an operator's triage queue instead
of being auto-classified. ``keyword_classify`` is the hand-written baseline the model is measured against.
"""

from urbanbrain.domains.cases.classify.keywords import keyword_classify
from urbanbrain.domains.cases.classify.model import (
    TRIAGE_THRESHOLD,
    Classifier,
    Prediction,
    load_default,
    train,
)

__all__ = ["TRIAGE_THRESHOLD", "Classifier", "Prediction", "keyword_classify", "load_default", "train"]
