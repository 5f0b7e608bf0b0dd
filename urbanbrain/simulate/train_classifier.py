"""Regenerate the corpus, train the shipped model, evaluate it on the held-out templates, write the files.

Run: ``python -m urbanbrain.simulate.train_classifier``. It prints held-out top-1/top-3 accuracy beside
the keyword baseline, the worst per-class recalls, and the triage threshold with its coverage, then writes
``data/corpus.jsonl``, ``data/model.npz`` and ``data/model.json``. The threshold is the lowest confidence at
which accepted held-out predictions are at least :data:`TARGET_ACCEPTED_ACCURACY` correct; ``model.py``'s
``TRIAGE_THRESHOLD`` must carry that value (a mismatch is printed).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from urbanbrain.domains.cases.classify.keywords import keyword_classify
from urbanbrain.domains.cases.classify.model import (
    DEFAULT_MODEL_PATH,
    OUT_OF_SCOPE,
    TRIAGE_THRESHOLD,
    Classifier,
    Prediction,
    train,
)
from urbanbrain.simulate import reports as corpus

TARGET_ACCEPTED_ACCURACY = 0.97
"""Accepted (not triaged) predictions must be at least this accurate on the held-out split."""


@dataclass
class Evaluation:
    """Held-out scores of one model, and of the keyword baseline on the same case reports.

    Accuracy counts case reports only; out-of-scope texts (label ``OTHER``) are scored by the share that
    goes to triage, since no case class is right for them.
    """

    n: int
    top1: float
    top3: float
    keyword_top1: float
    keyword_abstain: float
    recall: dict[str, float]
    confidences: np.ndarray
    correct: np.ndarray
    out_of_scope_confidences: np.ndarray

    def accepted(self, threshold: float) -> tuple[float, float]:
        """(accuracy of case predictions with confidence >= threshold, share of case reports accepted)."""
        keep = self.confidences >= threshold
        acc = float(self.correct[keep].mean()) if keep.any() else 1.0
        return acc, float(keep.mean())

    def out_of_scope_triaged(self, threshold: float) -> float:
        """Share of out-of-scope texts whose confidence is below the threshold (sent to triage)."""
        if not len(self.out_of_scope_confidences):
            return float("nan")
        return float((self.out_of_scope_confidences < threshold).mean())


def split(samples: Sequence[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    """The samples of one split ("train" or "test")."""
    return [s for s in samples if s["split"] == name]


def evaluate(model: Classifier, samples: Sequence[dict[str, Any]]) -> Evaluation:
    """Score the model and the keyword baseline on the same samples."""
    cases = [s for s in samples if s["label"] != OUT_OF_SCOPE]
    other = [s["text"] for s in samples if s["label"] == OUT_OF_SCOPE]
    texts = [s["text"] for s in cases]
    gold = [s["label"] for s in cases]
    preds: list[Prediction] = model.predict_many(texts)
    correct = np.array([p.label == g for p, g in zip(preds, gold, strict=True)])
    top3 = np.mean([g in [c for c, _ in p.top] for p, g in zip(preds, gold, strict=True)])
    kw = [keyword_classify(t) for t in texts]
    per: Counter[str] = Counter(gold)
    hit: Counter[str] = Counter(g for g, ok in zip(gold, correct, strict=True) if ok)
    return Evaluation(
        n=len(cases),
        top1=float(correct.mean()),
        top3=float(top3),
        keyword_top1=float(np.mean([k == g for k, g in zip(kw, gold, strict=True)])),
        keyword_abstain=float(np.mean([k is None for k in kw])),
        recall={c: hit[c] / per[c] for c in sorted(per)},
        confidences=np.array([p.confidence for p in preds]),
        correct=correct,
        out_of_scope_confidences=np.array([p.confidence for p in model.predict_many(other)]),
    )


def choose_threshold(ev: Evaluation, target: float = TARGET_ACCEPTED_ACCURACY) -> float:
    """Lowest threshold (0.01 steps) from which every higher one also keeps accepted accuracy >= target."""
    grid = [round(t * 0.01, 2) for t in range(101)]
    ok = [ev.accepted(t)[0] >= target for t in grid]
    for i, t in enumerate(grid):
        if all(ok[i:]):
            return t
    return 1.0


def main(out: Path = DEFAULT_MODEL_PATH) -> int:
    """Regenerate, train, evaluate, write; prints a report. Returns 0."""
    t0 = time.perf_counter()
    n = corpus.write_corpus()
    samples = corpus.load_corpus()
    train_rows, test_rows = split(samples, "train"), split(samples, "test")
    n_templates = len({s["template_id"] for s in samples})
    n_test_templates = len({s["template_id"] for s in test_rows})
    n_labels = len({s["label"] for s in samples} - {OUT_OF_SCOPE})
    print(f"corpus: {n} samples, {n_templates} templates, {n_labels} case classes + out-of-scope texts")
    print(
        f"  train {len(train_rows)} samples; held-out {len(test_rows)} samples from {n_test_templates} unseen templates"
    )
    print(
        f"  generated in {time.perf_counter() - t0:.1f} s, {corpus.CORPUS_PATH.stat().st_size / 1e6:.2f} MB"
    )

    t1 = time.perf_counter()
    model = train(train_rows)
    train_s = time.perf_counter() - t1
    print(f"trained in {train_s:.1f} s: {len(model.vocab)} features, temperature {model.temperature:.3f}")

    ev = evaluate(model, test_rows)
    print(f"held-out top-1 {ev.top1:.4f}  top-3 {ev.top3:.4f}")
    print(f"keyword baseline top-1 {ev.keyword_top1:.4f} (no keyword matched: {ev.keyword_abstain:.1%})")
    worst = sorted(ev.recall.items(), key=lambda kv: kv[1])[:8]
    print("worst recalls: " + ", ".join(f"{c} {r:.2f}" for c, r in worst))

    minimum = choose_threshold(ev)
    acc, cov = ev.accepted(TRIAGE_THRESHOLD)
    print(
        f"triage: lowest threshold keeping accepted accuracy >= {TARGET_ACCEPTED_ACCURACY:.0%} is {minimum:.2f}; "
        f"TRIAGE_THRESHOLD {TRIAGE_THRESHOLD:.2f} gives accepted accuracy {acc:.4f}, coverage {cov:.1%}, "
        f"out-of-scope texts triaged {ev.out_of_scope_triaged(TRIAGE_THRESHOLD):.1%}"
    )
    for t in (0.3, 0.5, 0.7, 0.9):
        a, c = ev.accepted(t)
        print(f"  at {t:.1f}: accepted accuracy {a:.4f}, coverage {c:.1%}")
    if minimum > TRIAGE_THRESHOLD:
        print(f"WARNING: TRIAGE_THRESHOLD {TRIAGE_THRESHOLD:.2f} is below the measured minimum {minimum:.2f}")

    model.meta.update(
        {
            "train_seconds": round(train_s, 1),
            "held_out": {
                "n": ev.n,
                "top1": round(ev.top1, 4),
                "top3": round(ev.top3, 4),
                "keyword_top1": round(ev.keyword_top1, 4),
            },
            "threshold": {
                "value": TRIAGE_THRESHOLD,
                "measured_minimum": minimum,
                "accepted_accuracy": round(acc, 4),
                "coverage": round(cov, 4),
                "out_of_scope_triaged": round(ev.out_of_scope_triaged(TRIAGE_THRESHOLD), 4),
                "target": TARGET_ACCEPTED_ACCURACY,
            },
        }
    )
    model.save(out)
    size = out.stat().st_size + out.with_suffix(".json").stat().st_size
    print(f"wrote {out} + {out.with_suffix('.json').name}: {size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
