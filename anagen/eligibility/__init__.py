"""Assessment → explained, versioned eligibility decision for SVF hair-loss therapy.

Pure library (no Django). The Django assessment app maps its model to
:class:`AssessmentFacts`, calls :func:`evaluate` and stores :meth:`Decision.to_dict`
together with :attr:`Decision.ruleset_version`; physician overrides are stored there.
"""

from anagen.eligibility import vocab
from anagen.eligibility.conditions import (
    AllOf,
    AnyOf,
    Compare,
    Condition,
    HasAny,
    In,
    LabIs,
    Missing,
    Not,
)
from anagen.eligibility.default_ruleset import (
    DEFAULT_RULESET,
    RULESET_VERSION,
    build_default_ruleset,
)
from anagen.eligibility.evaluation import describe_ruleset, evaluate
from anagen.eligibility.facts import SCALE_FIELDS, AssessmentFacts
from anagen.eligibility.labs import (
    LAB_TESTS,
    LAB_TESTS_BY_CODE,
    LabTest,
    LabValueError,
    RefRange,
    classify_lab,
    lab_test,
    validate_lab,
)
from anagen.eligibility.ruleset import (
    DEFAULT_THRESHOLDS,
    PRECEDENCE,
    Decision,
    Reason,
    Rule,
    Ruleset,
)
from anagen.eligibility.vocab import LABELS, OUTCOMES, Basp, parse_basp

__all__ = [
    "DEFAULT_RULESET",
    "DEFAULT_THRESHOLDS",
    "LABELS",
    "LAB_TESTS",
    "LAB_TESTS_BY_CODE",
    "OUTCOMES",
    "PRECEDENCE",
    "RULESET_VERSION",
    "SCALE_FIELDS",
    "AllOf",
    "AnyOf",
    "AssessmentFacts",
    "Basp",
    "Compare",
    "Condition",
    "Decision",
    "HasAny",
    "In",
    "LabIs",
    "LabTest",
    "LabValueError",
    "Missing",
    "Not",
    "Reason",
    "RefRange",
    "Rule",
    "Ruleset",
    "build_default_ruleset",
    "classify_lab",
    "describe_ruleset",
    "evaluate",
    "lab_test",
    "parse_basp",
    "validate_lab",
    "vocab",
]
