"""Departments' knowledge bases: the answers a consultation (咨询) gets without waiting for a person.

Each department keeps ``answers/<department>.toml``: answers, each with the questions citizens ask in
their own words. A consultation is matched against the questions of the department it was classified to
(character-bigram TF-IDF, cosine, each answer pooled from its title, questions and text): above :data:`GOOD_ANSWER` the citizen is answered at once and the case is
closed as answered; below it the consultation waits in the department's consultation queue, where a
person answers, and that answer can be added to the knowledge base.
"""

from __future__ import annotations

import math
import tomllib
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from urbanbrain.domains.cases.classify.features import normalize

GOOD_ANSWER = 0.12
"""Cosine from which an answer is given without a person.

Chosen on the knowledge bases' own questions, each held out from its answer in turn (``tests/domains/cases/
test_knowledge.py`` measures it): pooling each answer's title, questions and text, the best answer is the
right one for 85% of held-out phrasings; from 0.12, 68% get an answer at once and 94% of those get the right
one (0.10: 77% and 92%; 0.15: 53% and 96%). Below it, the consultation goes to the department's queue."""


@dataclass(frozen=True)
class Answer:
    code: str
    department: str
    title: str
    title_en: str
    questions: tuple[str, ...]
    answer: str
    answer_en: str
    category_code: str | None = None


@dataclass(frozen=True)
class Match:
    answer: Answer
    score: float


def _grams(text: str) -> Counter[str]:
    """Character bigrams of the CJK and Latin runs (the same normalisation as the classifier)."""
    norm = "".join(ch for ch in normalize(text) if ch.isalnum())
    return Counter(norm[i : i + 2] for i in range(len(norm) - 1))


class KnowledgeBase:
    """Every department's answers, with an index of their questions."""

    def __init__(self, answers: list[Answer]) -> None:
        self.answers = answers
        # One vector per answer, from its title, its questions and the answer itself: pooled, the many ways
        # of asking and the answer's own terms match new wording far better than the nearest single question.
        texts = [[a.title, *a.questions, a.answer] for a in answers]
        df: Counter[str] = Counter()
        for group in texts:
            for t in group:
                df.update(_grams(t).keys())
        n = sum(len(g) for g in texts)
        self._idf = {g: math.log((1 + n) / (1 + c)) + 1.0 for g, c in df.items()}
        pooled = []
        for group in texts:
            c: Counter[str] = Counter()
            for t in group:
                c.update(_grams(t))
            pooled.append(c)
        self._docs = [(a, self._vector(c)) for a, c in zip(answers, pooled, strict=True)]

    def _vector(self, grams: Counter[str]) -> dict[str, float]:
        vec = {g: (1 + math.log(c)) * self._idf.get(g, 0.0) for g, c in grams.items()}
        norm = math.sqrt(sum(v * v for v in vec.values())) or 1.0
        return {g: v / norm for g, v in vec.items() if v}

    def best(self, text: str, department: str | None = None) -> Match | None:
        """The best answer for ``text`` (among ``department``'s when given), whatever its score."""
        query = self._vector(_grams(text))
        best: Match | None = None
        for answer, vec in self._docs:
            if department is not None and answer.department != department:
                continue
            small, large = (query, vec) if len(query) < len(vec) else (vec, query)
            score = sum(v * large.get(g, 0.0) for g, v in small.items())
            if best is None or score > best.score:
                best = Match(answer, score)
        return best

    def answer_for(self, text: str, department: str | None) -> Match | None:
        """A good answer for ``text``, or None (the consultation goes to the department's queue)."""
        found = self.best(text, department)
        return found if found is not None and found.score >= GOOD_ANSWER else None

    def by_code(self, code: str) -> Answer | None:
        return next((a for a in self.answers if a.code == code), None)


@lru_cache(maxsize=1)
def load() -> KnowledgeBase:
    """Every ``answers/*.toml`` of the package, read once."""
    folder = resources.files("urbanbrain.domains.cases").joinpath("answers")
    answers: list[Answer] = []
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        raw = tomllib.loads(entry.read_text("utf-8"))
        for a in raw.get("answer", []):
            answers.append(
                Answer(
                    code=a["code"],
                    department=raw["department"],
                    title=a["title"],
                    title_en=a["title_en"],
                    questions=tuple(a["questions"]),
                    answer=a["answer"].strip(),
                    answer_en=a["answer_en"].strip(),
                    category_code=a.get("category"),
                )
            )
    return KnowledgeBase(answers)
