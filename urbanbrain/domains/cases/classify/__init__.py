"""Free Chinese report text to what dispatch needs: class, department, kind of request, emergency.

``load_default().predict(text)`` returns a :class:`Prediction`; when ``prediction.needs_triage`` the
department is too unsure to act on and a dispatcher decides. ``keyword_classify`` is the hand-written
baseline the model is measured against.
"""

from urbanbrain.domains.cases.classify.keywords import keyword_classify
from urbanbrain.domains.cases.classify.model import (
    TRIAGE_THRESHOLD,
    Classifier,
    Prediction,
    load_default,
)

__all__ = ["TRIAGE_THRESHOLD", "Classifier", "Prediction", "keyword_classify", "load_default"]
