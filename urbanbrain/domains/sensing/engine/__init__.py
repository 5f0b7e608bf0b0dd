"""The rules engine of the sensing platform (物联感知): alarm rules as data, evaluated over batches of
device readings with numpy, in event time, with a plain-Python reference twin for the tests.

``RuleEngine`` evaluates; ``RuleSpec`` is a rule; ``Transition`` an alarm raised or cleared.
"""

from .engine import RuleEngine
from .results import EvalResult, Transition
from .specs import KINDS, LEVELS, OPS, SEVERITIES, RuleSpec

__all__ = ["KINDS", "LEVELS", "OPS", "SEVERITIES", "EvalResult", "RuleEngine", "RuleSpec", "Transition"]
