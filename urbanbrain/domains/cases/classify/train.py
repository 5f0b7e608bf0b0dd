"""Training: the shared vocabulary, the three heads, and calibration on writers the model did not see.

A model scored on the writers it learned from looks far surer than it is on a new citizen's words, and a
confidence is only useful if it means the same on new words. So every corpus writer is held out in turn
(a fold per writer), the model trained on the others predicts that writer's reports, and these
out-of-writer predictions fix each head's temperature and the department threshold. The model shipped is
then fitted on everything.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from urbanbrain.domains.cases.classify.features import features
from urbanbrain.domains.cases.classify.model import (
    KINDS,
    OUT_OF_SCOPE,
    TARGET_PRECISION,
    Classifier,
    Head,
    as_stored,
)
from urbanbrain.domains.cases.classify.numerics import (
    FitConfig,
    build_vocab,
    fit_softmax,
    fit_temperature,
    softmax,
    sparse_dot,
    vectorize_features,
)

MAX_FOLDS = 8
FOLD_EXEMPT = frozenset({"taxonomy", "knowledge"})
"""Sources that are never held out: the taxonomy's examples and the answers' questions are short and
clean, so scoring on them would flatter the model; they train every fold instead."""


@dataclass(frozen=True)
class TrainConfig:
    """Settings; the defaults are those of the shipped model (chosen by cross-writer validation)."""

    min_df: int = 2
    minor: FitConfig = field(default_factory=lambda: FitConfig(epochs=30, learning_rate=0.05, l2=0.0))
    kind: FitConfig = field(default_factory=lambda: FitConfig(epochs=10, learning_rate=0.05, l2=0.0))
    emergency: FitConfig = field(
        default_factory=lambda: FitConfig(epochs=10, learning_rate=0.05, l2=0.0, class_weight=True)
    )
    nb_alpha: float = 0.1
    target_precision: float = TARGET_PRECISION
    emergency_recall: float = 0.95
    """The emergency threshold is the highest that still catches this share of out-of-writer emergencies."""


@dataclass
class Sample:
    """One labelled text: ``minor`` a class code (or ``OTHER``), ``kind`` and ``emergency`` when known."""

    text: str
    minor: str | None
    kind: str | None = None
    emergency: bool | None = None
    writer: str = "corpus"
    weight: float = 1.0


NO_DEPARTMENT = "none"
"""Department-head label of text that is no request."""


def _fit_head(
    x: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_features: int,
    rows: np.ndarray,
    y: np.ndarray,
    labels: list[str],
    cfg: FitConfig,
    weights: np.ndarray,
) -> Head:
    indptr, cols, vals = x
    sub = _rows(indptr, cols, vals, rows)
    w, b = fit_softmax(*sub, y, n_features, len(labels), cfg, weights)
    return Head(labels, w, b)


def _rows(
    indptr: np.ndarray, cols: np.ndarray, vals: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    from urbanbrain.domains.cases.classify.numerics import take_rows

    return take_rows(indptr, cols, vals, rows)


def fit(
    samples: Sequence[Sample],
    minors: Sequence[str],
    departments: dict[str, str],
    cfg: TrainConfig,
    docs: Sequence[list[str]] | None = None,
) -> Classifier:
    """Fit vocabulary and the three heads on ``samples`` (temperatures 1; see :func:`train`)."""
    docs = docs if docs is not None else [features(s.text) for s in samples]
    vocab, idf = build_vocab(docs, cfg.min_df)
    x = vectorize_features(docs, vocab, idf)
    weight = np.array([s.weight for s in samples], dtype=np.float32)
    minor_labels = sorted(set(minors) | {OUT_OF_SCOPE})
    heads: dict[str, Head] = {}
    idx = {c: i for i, c in enumerate(minor_labels)}
    rows = np.array([i for i, s in enumerate(samples) if s.minor in idx], dtype=np.int64)
    y = np.array([idx[samples[i].minor] for i in rows], dtype=np.int64)  # type: ignore[index]
    heads["minor"] = _fit_head(x, len(vocab), rows, y, minor_labels, cfg.minor, weight[rows])
    kinds = list(KINDS)
    rows = np.array([i for i, s in enumerate(samples) if s.kind in kinds], dtype=np.int64)
    y = np.array([kinds.index(samples[i].kind) for i in rows], dtype=np.int64)  # type: ignore[arg-type]
    heads["kind"] = _fit_head(x, len(vocab), rows, y, kinds, cfg.kind, weight[rows])
    rows = np.array([i for i, s in enumerate(samples) if s.emergency is not None], dtype=np.int64)
    y = np.array([int(bool(samples[i].emergency)) for i in rows], dtype=np.int64)
    heads["emergency"] = _fit_head(x, len(vocab), rows, y, ["no", "yes"], cfg.emergency, None)  # type: ignore[arg-type]
    # The department head learns departments directly: every class of a department is one label, so a
    # department's many small classes pool their examples (the minor head sees each class alone).
    dept_labels = sorted(set(departments.values()) | {NO_DEPARTMENT})
    rows = np.array([i for i, s in enumerate(samples) if s.minor in idx], dtype=np.int64)
    y = np.array([dept_labels.index(departments.get(samples[i].minor or "", NO_DEPARTMENT)) for i in rows])
    heads["department"] = _fit_head(x, len(vocab), rows, y, dept_labels, cfg.minor, weight[rows])
    heads["department_nb"] = _complement_nb(x, len(vocab), rows, y, dept_labels, cfg.nb_alpha)
    return Classifier(vocab, idf, heads, departments)


def _complement_nb(
    x: tuple[np.ndarray, np.ndarray, np.ndarray],
    n_features: int,
    rows: np.ndarray,
    y: np.ndarray,
    labels: list[str],
    alpha: float,
) -> Head:
    """Complement naive Bayes over the same TF-IDF rows, as a linear head (weights, zero bias).

    Why a second department model: it is fitted from counts, so it is the opposite kind of error to the
    softmax regression (it trusts rare distinctive grams, the regression learns their interplay), and on
    writers it did not see the two are about as accurate alone and better blended (see ``calibrate``)."""
    indptr, cols, vals = _rows(*x, rows)
    per_row = np.repeat(np.arange(len(rows)), np.diff(indptr))
    totals = np.zeros((len(labels), n_features), dtype=np.float64)
    np.add.at(totals, (y[per_row], cols), vals)
    complement = totals.sum(axis=0, keepdims=True) - totals + alpha
    w = -np.log(complement / complement.sum(axis=1, keepdims=True))
    # Each department's weights sum to one in absolute value (complement NB's weight normalisation); times
    # the vocabulary's size they are near one each, not 1e-5: eight bits and a float16 scale keep them.
    w *= n_features / np.abs(w).sum(axis=1, keepdims=True)
    return Head(labels, w.T.astype(np.float32), np.zeros(len(labels), dtype=np.float32))


def out_of_writer(
    samples: Sequence[Sample],
    minors: Sequence[str],
    departments: dict[str, str],
    cfg: TrainConfig,
    docs: Sequence[list[str]],
    held_writers: Sequence[str],
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Logits of every sample of ``held_writers``, each from a model fitted without its writer (writers
    are dealt into at most :data:`MAX_FOLDS` folds, so training time stays bounded as writers are added).

    Returns (the indices of those samples, their logits by head)."""
    parts: list[tuple[np.ndarray, dict[str, np.ndarray]]] = []
    folds = [
        held_writers[i :: min(MAX_FOLDS, len(held_writers))] for i in range(min(MAX_FOLDS, len(held_writers)))
    ]
    for fold in folds:
        held = set(fold)
        train_idx = [i for i, s in enumerate(samples) if s.writer not in held]
        test_idx = np.array([i for i, s in enumerate(samples) if s.writer in held], dtype=np.int64)
        model = fit([samples[i] for i in train_idx], minors, departments, cfg, [docs[i] for i in train_idx])
        x = vectorize_features([docs[i] for i in test_idx], model.vocab, model.idf)
        # Measured with the weights as the model is shipped (sparse wide heads, eight bits a weight), so the
        # threshold chosen here is the shipped model's.
        logits = {n: sparse_dot(*x, as_stored(n, h.weights)) + h.bias for n, h in model.heads.items()}
        parts.append((test_idx, logits))
    order = np.concatenate([p[0] for p in parts])
    return order, {n: np.concatenate([p[1][n] for p in parts]) for n in parts[0][1]}


def department_threshold(confidence: np.ndarray, correct: np.ndarray, target: float) -> float:
    """The lowest threshold (0.01 steps) from which every higher one keeps accepted precision >= target."""
    grid = [round(t * 0.01, 2) for t in range(101)]
    ok = []
    for t in grid:
        keep = confidence >= t
        ok.append(bool(keep.sum() == 0 or correct[keep].mean() >= target))
    for i, t in enumerate(grid):
        if all(ok[i:]):
            return t
    return 1.0


@dataclass
class Calibration:
    temperatures: dict[str, float]
    threshold: float
    emergency_threshold: float
    department_mix: tuple[float, float, float]
    report: dict[str, Any]


def calibrate(
    samples: Sequence[Sample],
    minors: Sequence[str],
    departments: dict[str, str],
    cfg: TrainConfig,
    docs: Sequence[list[str]],
) -> Calibration:
    """Temperatures and thresholds from out-of-writer predictions (every writer with 50+ reports)."""
    counts: dict[str, int] = {}
    for s in samples:
        counts[s.writer] = counts.get(s.writer, 0) + 1
    writers = sorted(w for w, c in counts.items() if c >= 50 and w not in FOLD_EXEMPT)
    order, oow = out_of_writer(samples, minors, departments, cfg, docs, writers)
    held = [samples[i] for i in order]
    labels = sorted(set(minors) | {OUT_OF_SCOPE})
    index = {c: i for i, c in enumerate(labels)}
    temps: dict[str, float] = {}
    m = np.array([s.minor in index for s in held])
    y = np.array([index[s.minor] for s in held if s.minor in index])  # type: ignore[index]
    temps["minor"] = fit_temperature(oow["minor"][m], y)
    k = np.array([s.kind in KINDS for s in held])
    temps["kind"] = fit_temperature(
        oow["kind"][k], np.array([KINDS.index(s.kind) for s in held if s.kind in KINDS])
    )  # type: ignore[arg-type]
    e = np.array([s.emergency is not None for s in held])
    ey = np.array([int(bool(s.emergency)) for s in held if s.emergency is not None])
    temps["emergency"] = fit_temperature(oow["emergency"][e], ey)

    # Department confidence as served: the minor head's class probabilities summed per department, the
    # department head's own, or their mean; the mix that sends most reports right at the target wins.
    proba = softmax(oow["minor"] / temps["minor"])
    dept_of = [departments.get(c) for c in labels]
    dept_names = sorted({d for d in dept_of if d})
    to_dept = np.zeros((len(labels), len(dept_names)), dtype=np.float32)
    for i, d in enumerate(dept_of):
        if d:
            to_dept[i, dept_names.index(d)] = 1.0
    summed = proba @ to_dept
    dm = np.array([s.minor in index for s in held])
    head_labels = sorted(set(departments.values()) | {NO_DEPARTMENT})
    dy = np.array(
        [head_labels.index(departments.get(s.minor or "", NO_DEPARTMENT)) for s in held if s.minor in index]
    )
    temps["department"] = fit_temperature(oow["department"][dm], dy)
    cols = [head_labels.index(d) for d in dept_names]
    head = softmax(oow["department"] / temps["department"])[:, cols]
    temps["department_nb"] = fit_temperature(oow["department_nb"][dm], dy)
    nb = softmax(oow["department_nb"] / temps["department_nb"])[:, cols]
    gold = np.array([departments.get(s.minor or "", "none") for s in held])
    in_scope = np.array([s.minor not in (None, OUT_OF_SCOPE) for s in held])
    mixes: dict[tuple[float, float, float], tuple[float, float, np.ndarray, np.ndarray]] = {}
    steps = [i / 4 for i in range(5)]
    for a in steps:
        for b in steps:
            if a + b > 1:
                continue
            w = (a, b, round(1 - a - b, 2))
            dp = w[0] * summed + w[1] * head + w[2] * nb
            pred = np.array(dept_names)[dp.argmax(axis=1)]
            conf = dp.max(axis=1)
            correct = pred[in_scope] == gold[in_scope]
            thr = department_threshold(conf[in_scope], correct, cfg.target_precision)
            mixes[w] = (float((correct & (conf[in_scope] >= thr)).mean()), thr, conf, correct)
    mix = max(mixes, key=lambda w: mixes[w][0])
    _, threshold, conf, correct = mixes[mix]
    # Emergencies: catch the target share of them; a false alarm costs a look, a miss costs a life.
    es = softmax(oow["emergency"][e] / temps["emergency"])[:, 1]
    pos = np.sort(es[ey == 1])
    e_thr = float(pos[int(math.floor((1 - cfg.emergency_recall) * len(pos)))]) if len(pos) else 0.5
    accepted = conf[in_scope] >= threshold
    report = {
        "writers": writers,
        "department_mix": list(mix),
        "department_top1_by_source": {
            name: float((np.array(dept_names)[p.argmax(axis=1)][in_scope] == gold[in_scope]).mean())
            for name, p in (("summed_classes", summed), ("department_head", head), ("complement_nb", nb))
        },
        "n": int(in_scope.sum()),
        "department_top1": float(correct.mean()),
        "department_accuracy_triage_wrong": float((correct & accepted).mean()),
        "auto_precision": float(correct[accepted].mean()) if accepted.any() else 1.0,
        "triage_rate": float(1 - accepted.mean()),
        "out_of_scope_triaged": float((conf[~in_scope] < threshold).mean()) if (~in_scope).any() else None,
        "minor_top1": float(
            (
                proba[in_scope].argmax(axis=1)
                == np.array([index[s.minor] for s in held if s.minor not in (None, OUT_OF_SCOPE)])
            ).mean()  # type: ignore[index]
        ),
        "kind_accuracy": float(
            (
                oow["kind"][k].argmax(axis=1)
                == np.array([KINDS.index(s.kind) for s in held if s.kind in KINDS])
            ).mean()  # type: ignore[arg-type]
        ),
        "emergency_recall": float((es[ey == 1] >= e_thr).mean()) if len(pos) else None,
        "emergency_false_alarm": float((es[ey == 0] >= e_thr).mean()),
    }
    return Calibration(temps, threshold, e_thr, mix, report)


def train(
    samples: Sequence[Sample],
    minors: Sequence[str],
    departments: dict[str, str],
    cfg: TrainConfig | None = None,
    *,
    calibrated: bool = True,
) -> Classifier:
    """Calibrate out of writer, then fit on every sample; the report goes into ``model.meta``."""
    cfg = cfg or TrainConfig()
    docs = [features(s.text) for s in samples]
    cal = calibrate(samples, minors, departments, cfg, docs) if calibrated else None
    model = fit(samples, minors, departments, cfg, docs)
    if cal is not None:
        model.heads.update(
            {n: Head(h.labels, h.weights, h.bias, cal.temperatures[n]) for n, h in model.heads.items()}
        )
        model.meta.update(
            threshold=cal.threshold,
            emergency_threshold=cal.emergency_threshold,
            department_mix=list(cal.department_mix),
            out_of_writer=cal.report,
        )
        # A department model the blend does not use is not shipped (it would only weigh the file down).
        for weight, name in zip(cal.department_mix[1:], ("department", "department_nb"), strict=True):
            if not weight:
                model.heads.pop(name, None)
                model.meta.setdefault("dropped_heads", []).append(f"{name} (its blend weight is 0)")
    model.meta.update(n_train=len(samples), n_features=len(model.vocab), config=asdict(cfg))
    return model
