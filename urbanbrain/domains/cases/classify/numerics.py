"""The numpy under the classifier: TF-IDF rows in CSR form, softmax regression by lazy Adam, temperature.

No scikit-learn: the whole model is a few matrix products, and owning them keeps the install small and the
shipped model a plain ``.npz``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large scores."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def vectorize_features(
    docs: Iterable[list[str]], vocab: dict[str, int], idf: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Like :func:`vectorize`, from feature lists already computed (training reuses them)."""
    indptr = [0]
    cols: list[int] = []
    vals: list[float] = []
    for feats in docs:
        counts: dict[int, int] = {}
        for f in feats:
            j = vocab.get(f)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        row = [(j, (1.0 + math.log(c)) * float(idf[j])) for j, c in counts.items()]
        norm = math.sqrt(sum(v * v for _, v in row)) or 1.0
        cols.extend(j for j, _ in row)
        vals.extend(v / norm for _, v in row)
        indptr.append(len(cols))
    return (
        np.asarray(indptr, dtype=np.int64),
        np.asarray(cols, dtype=np.int64),
        np.asarray(vals, dtype=np.float32),
    )


def _compact(indptr: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """CSR rows as a dense block over only the columns they use: (those columns, block).

    Why: a batch of short texts touches a few thousand of the vocabulary's features, so a dense block
    over just those is small and lets BLAS do the products (numpy has no sparse matrices).
    """
    uniq, inverse = np.unique(cols, return_inverse=True)
    rows = np.repeat(np.arange(len(indptr) - 1), np.diff(indptr))
    block = np.zeros((len(indptr) - 1, len(uniq)), dtype=np.float32)
    block[rows, inverse] = vals
    return uniq, block


def sparse_dot(indptr: np.ndarray, cols: np.ndarray, vals: np.ndarray, w: np.ndarray) -> np.ndarray:
    """(CSR matrix) @ w, in chunks of rows so the compact block stays small."""
    n = len(indptr) - 1
    out = np.zeros((n, w.shape[1]), dtype=np.float32)
    for start in range(0, n, 1024):
        stop = min(n, start + 1024)
        lo, hi = indptr[start], indptr[stop]
        if hi == lo:
            continue
        uniq, block = _compact(indptr[start : stop + 1] - lo, cols[lo:hi], vals[lo:hi])
        out[start:stop] = block @ w[uniq].astype(np.float32)
    return out


# --- training -------------------------------------------------------------------------------------------


def build_vocab(docs: Sequence[list[str]], min_df: int) -> tuple[dict[str, int], np.ndarray]:
    """Vocabulary of features seen in at least ``min_df`` documents (sorted, so it is deterministic) + idf."""
    df: dict[str, int] = {}
    for feats in docs:
        for f in set(feats):
            df[f] = df.get(f, 0) + 1
    kept = sorted(f for f, c in df.items() if c >= min_df)
    n = len(docs)
    idf = np.array([math.log((1 + n) / (1 + df[f])) + 1.0 for f in kept], dtype=np.float32)
    return {f: i for i, f in enumerate(kept)}, idf


@dataclass(frozen=True)
class FitConfig:
    """Optimiser settings of one softmax head (chosen by cross-writer validation in ``train.py``)."""

    epochs: int = 12
    batch_size: int = 256
    learning_rate: float = 0.05
    l2: float = 1e-5
    seed: int = 20180709
    class_weight: bool = False
    """Weigh each sample by 1/(its class's share), so a class with few examples still counts."""


def fit_softmax(
    indptr: np.ndarray,
    cols: np.ndarray,
    vals: np.ndarray,
    y: np.ndarray,
    n_features: int,
    n_classes: int,
    cfg: FitConfig,
    sample_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression (mean cross-entropy + l2/2 |W|^2) by mini-batch Adam."""
    rng = np.random.default_rng(cfg.seed)
    w = np.zeros((n_features, n_classes), dtype=np.float32)
    b = np.zeros(n_classes, dtype=np.float32)
    mw, vw = np.zeros_like(w), np.zeros_like(w)
    mb, vb = np.zeros_like(b), np.zeros_like(b)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    n = len(y)
    onehot = np.eye(n_classes, dtype=np.float32)[y]
    if sample_weight is None and cfg.class_weight:
        counts = np.bincount(y, minlength=n_classes).astype(np.float32)
        sample_weight = (len(y) / (n_classes * np.maximum(counts, 1)))[y]
    sw = np.ones(n, dtype=np.float32) if sample_weight is None else sample_weight.astype(np.float32)
    step = 0
    for _epoch in range(cfg.epochs):
        order = rng.permutation(n)
        for start in range(0, n, cfg.batch_size):
            idx = np.sort(order[start : start + cfg.batch_size])
            touched, x = _compact(*take_rows(indptr, cols, vals, idx))
            p = softmax(x @ w[touched] + b)
            g = (p - onehot[idx]) * sw[idx, None] / len(idx)
            gw = x.T @ g
            if cfg.l2:
                gw += cfg.l2 * w[touched]
            gb = g.sum(axis=0)
            step += 1
            lr = cfg.learning_rate * math.sqrt(1 - beta2**step) / (1 - beta1**step)
            # Lazy Adam: only the rows of features present in the batch move (sparse text features).
            m_rows = beta1 * mw[touched] + (1 - beta1) * gw
            v_rows = beta2 * vw[touched] + (1 - beta2) * gw * gw
            mw[touched] = m_rows
            vw[touched] = v_rows
            w[touched] -= lr * m_rows / (np.sqrt(v_rows) + eps)
            mb = beta1 * mb + (1 - beta1) * gb
            vb = beta2 * vb + (1 - beta2) * gb * gb
            b -= lr * mb / (np.sqrt(vb) + eps)
    return w, b


def take_rows(
    indptr: np.ndarray, cols: np.ndarray, vals: np.ndarray, idx: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The CSR sub-matrix of the given rows."""
    starts, ends = indptr[idx], indptr[idx + 1]
    lengths = ends - starts
    new_ptr = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    take = np.repeat(starts - new_ptr[:-1], lengths) + np.arange(new_ptr[-1])
    return new_ptr, cols[take], vals[take]


def fit_temperature(logits: np.ndarray, y: np.ndarray) -> float:
    """The softmax temperature minimising negative log-likelihood (golden-section search on log T)."""

    def nll(log_t: float) -> float:
        p = softmax(logits / math.exp(log_t))
        return float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean())

    lo, hi = math.log(0.05), math.log(20.0)
    gr = (math.sqrt(5) - 1) / 2
    a, b = hi - gr * (hi - lo), lo + gr * (hi - lo)
    fa, fb = nll(a), nll(b)
    for _ in range(60):
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - gr * (hi - lo)
            fa = nll(a)
        else:
            lo, a, fa = a, b, fb
            b = lo + gr * (hi - lo)
            fb = nll(b)
    return math.exp((lo + hi) / 2)
