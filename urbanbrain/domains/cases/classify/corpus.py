"""The training corpus: reports written in many voices, the taxonomy's examples, the knowledge bases' questions.

``corpus/<writer>.jsonl`` holds reports as citizens, hotline operators and grid workers write them, one
file per writer (each writer a voice: an old resident on the phone, a young app user, a shop owner...),
written for training and never templated. Each line: ``text``, ``minor`` (a class code, or ``OTHER`` for
text that is no request), ``kind``, ``emergency`` and ``channel``. The writer is a fold of the calibration
(``train.py``): confidence is measured on voices the model did not learn from.

The held-out evaluation set (``benchmarks/data/dispatch_eval``) is not read here, ever.
"""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

from urbanbrain.domains.cases.classify.train import Sample
from urbanbrain.domains.cases.knowledge import load as knowledge
from urbanbrain.domains.cases.taxonomy import load as taxonomy

CORPUS_DIR = Path(str(resources.files("urbanbrain.domains.cases.classify").joinpath("corpus")))


def writer_files() -> list[Path]:
    return sorted(CORPUS_DIR.glob("*.jsonl"))


def read_jsonl(path: Path, writer: str) -> list[Sample]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        out.append(
            Sample(
                text=row["text"],
                minor=row["minor"],
                kind=row.get("kind"),
                emergency=row.get("emergency"),
                writer=writer,
            )
        )
    return out


def load_corpus() -> list[Sample]:
    """Every training sample: the writers' reports, the taxonomy's examples and the answers' questions."""
    samples: list[Sample] = []
    for path in writer_files():
        samples.extend(read_jsonl(path, path.stem))
    for minor in taxonomy().minors.values():
        samples.extend(Sample(text=t, minor=minor.code, writer="taxonomy") for t in minor.examples)
    for answer in knowledge().answers:
        # A knowledge-base question is a consultation; its class, when the answer names one, teaches the
        # class too, and an answer without a class still teaches what a question looks like.
        samples.extend(
            Sample(text=q, minor=answer.category_code, kind="consultation", writer="knowledge")
            for q in answer.questions
        )
    return samples


def minors_and_departments() -> tuple[list[str], dict[str, str]]:
    """The class codes the model predicts and each one's department (``street_office`` etc. included)."""
    minors = taxonomy().minors
    return sorted(minors), {c: m.department for c, m in minors.items()}
