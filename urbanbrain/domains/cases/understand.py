"""What intake makes of a report's words, shared by the one-at-a-time path and batch intake.

For every report: the kind of request (咨询/投诉/求助/举报/建议) and whether it is an emergency. For a report
without a class: the class and department, or triage when the department is too unsure. For a
consultation: the department's knowledge-base answer when a good one exists. Reports opened by a sensor
alarm are reports of a problem by definition and carry the alarm's own urgency, not their text's.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from urbanbrain.core.context import Platform
from urbanbrain.domains.cases import knowledge
from urbanbrain.domains.cases.taxonomy import load as taxonomy

SURE_QUESTION = 0.6
"""Kind confidence from which a consultation may be answered from the knowledge base and closed."""
QUESTION = re.compile(
    r"[?？吗嘛呢]|怎么|怎样|如何|哪里|哪儿|哪个|哪些|能不能|可不可以|可以.{0,8}吗|是否|请问|咨询|多少|什么|几时|几点|点样|点办|边度|系咪|有冇"
)
"""A question's words (Mandarin and Cantonese): only a report that asks something is answered and closed,
so a problem the kind head mistook for a question ("垃圾满了没人清运") still gets a crew."""


@dataclass(frozen=True)
class Understood:
    category: str | None  # the class to file under (given, or confidently classified)
    classified_as: str | None  # the classifier's best class, whether used or not
    confidence: float | None  # the classifier's department confidence
    triage: str | None  # why a dispatcher must decide (low_confidence), else None
    kind: str
    emergency: bool
    answer: knowledge.Answer | None

    @property
    def call_now(self) -> str | None:
        """For an emergency: the number to call now (110/119/120)."""
        if not self.emergency:
            return None
        minor = taxonomy().minors.get(self.category or self.classified_as or "")
        return minor.call_now if minor else "110"


def understand_many(
    platform: Platform, texts: Sequence[str], given: Sequence[str | None], sources: Sequence[str]
) -> list[Understood]:
    """One classifier call for all ``texts``; ``given`` is each report's class when already known."""
    from urbanbrain.domains.cases.classify.retrain import current

    predictions = current(platform).predict_many(list(texts))
    kb = knowledge.load()
    out = []
    for text, category, source, p in zip(texts, given, sources, predictions, strict=True):
        if source == "sensor":
            out.append(Understood(category, None, None, None, "report", False, None))
            continue
        classified_as, confidence, triage = None, None, None
        if category is None:
            # Rounded: a batch sums the same products in another order, and a report's record must not
            # depend on which reports it was filed with.
            classified_as, confidence = p.label, round(p.department_confidence, 4)
            if p.needs_triage:
                triage = "low_confidence"
            else:
                category = p.label
        answer = None
        # Only a clear question is answered and closed: a problem report mistaken for one would be closed
        # with advice instead of a crew (the kind head is right ~4 times in 5; surely-a-question is safer).
        asks = p.kind == "consultation" and p.kind_confidence >= SURE_QUESTION and QUESTION.search(text)
        if asks and not p.emergency and category:
            match = kb.answer_for(text, taxonomy().minor(category).department)
            answer = match.answer if match else None
        out.append(Understood(category, classified_as, confidence, triage, p.kind, p.emergency, answer))
    return out
