"""Case-text classifier: jieba words + character bigrams and characters, TF-IDF, softmax regression in numpy.

Why this shape: case reports are short, noisy and full of place names, so word features alone miss typos
and unseen compounds while character n-grams alone miss word boundaries; together, TF-IDF weighted, they
feed a multinomial logistic regression whose softmax output, temperature-scaled on phrasings held out
from its own training data, is a usable confidence. An extra out-of-scope class (service questions,
chit-chat) soaks up probability for text that is no case report. Everything is numpy (no scikit-learn);
the shipped model is a float16 weight matrix in an ``.npz`` plus a JSON vocabulary, about 1.3 MB.

Low-confidence predictions are not guessed: ``Prediction.needs_triage`` is true below
:data:`TRIAGE_THRESHOLD` and the case goes to an operator's triage queue.
"""

from __future__ import annotations

import json
import logging
import math
import re
import threading
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import jieba
import numpy as np

DATA_DIR = Path(__file__).with_name("data")
DEFAULT_MODEL_PATH = DATA_DIR / "model.npz"

TRIAGE_THRESHOLD = 0.6
"""Confidence below which a case goes to the operator triage queue instead of being auto-classified.

Picked by ``train.py`` on the held-out split (phrasings the model never saw): the lowest threshold from
which accepted predictions stay at least 97% correct was 0.56; 0.6 adds a small margin. At 0.6 the shipped
model accepts 94.2% of held-out case reports with 97.4% accuracy (5.8% go to triage) and sends every
held-out out-of-scope text to triage. ``data/model.json`` ("threshold") records the numbers of the last run.
"""

FORMAT_VERSION = 1
OUT_OF_SCOPE = "OTHER"
"""Training label of text that is no case report (service questions, chit-chat, other departments' issues).

It is trained as a class so such text draws probability away from every case class; predictions never
return it (see :meth:`Classifier.predict_many`).
"""

_WORD_RUN = re.compile(r"[0-9a-z\u3400-\u4dbf\u4e00-\u9fff]+")
_DIGITS = re.compile(r"[0-9]+")
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")

# --- tokenisation -------------------------------------------------------------------------------------

DOMAIN_WORDS = [
    "路灯",
    "街灯",
    "灯杆",
    "红绿灯",
    "信号灯",
    "交通灯",
    "井盖",
    "窨井盖",
    "消火栓",
    "消防栓",
    "垃圾桶",
    "果皮箱",
    "报刊亭",
    "候车亭",
    "公交站亭",
    "护栏",
    "隔离栏",
    "斑马线",
    "标志牌",
    "标线",
    "座椅",
    "长椅",
    "绿化带",
    "行道树",
    "外墙",
    "违建",
    "暴露垃圾",
    "积水",
    "内涝",
    "污水井",
    "化粪池",
    "广告牌",
    "小广告",
    "牛皮癣",
    "扬尘",
    "围挡",
    "占道施工",
    "踩踏",
    "溺水",
    "燃气",
    "煤气罐",
    "占道经营",
    "店外经营",
    "乱停",
    "违停",
    "共享单车",
    "危化品",
    "脚手架",
    "塔吊",
    "消防通道",
    "生命通道",
    "私拉乱接",
    "三小场所",
    "油烟",
    "广场舞",
    "偷排",
    "打架斗殴",
    "群租房",
    "隔断房",
    "网格员",
    "不亮",
]
"""Facility and event words added to the tokenizer so they stay whole (jieba alone cuts 路灯不亮 as 路/灯不亮)."""
_DOMAIN_WORD_FREQ = 2000

_jieba_lock = threading.Lock()
_jieba: jieba.Tokenizer | None = None


def _tokenizer() -> jieba.Tokenizer:
    """A private, quietly initialised jieba tokenizer (private so other code's user words don't leak in)."""
    global _jieba
    if _jieba is None:
        with _jieba_lock:
            if _jieba is None:
                jieba.setLogLevel(logging.WARNING)
                tok = jieba.Tokenizer()
                tok.initialize()
                for word in DOMAIN_WORDS:
                    tok.add_word(word, freq=max(tok.FREQ.get(word) or 0, _DOMAIN_WORD_FREQ))
                _jieba = tok
    return _jieba


def normalize(text: str) -> str:
    """NFKC (full-width to half-width), lower case, every number to "0": numbers are slot noise."""
    return _DIGITS.sub("0", unicodedata.normalize("NFKC", text).lower())


def features(text: str) -> list[str]:
    """Feature strings of one text: jieba words ("w:"), CJK character bigrams ("b:") and characters ("u:").

    Latin words count only whole (so "world" does not share a bigram with a QR code prefix "LD") and bare
    numbers not at all: they carry no class and would give nonsense input a spurious confidence.
    """
    norm = normalize(text)
    feats: list[str] = []
    for run in _WORD_RUN.findall(norm):
        feats.extend("w:" + w for w in _tokenizer().lcut(run, HMM=True) if w.strip() and w != "0")
        feats.extend(
            "b:" + run[i : i + 2] for i in range(len(run) - 1) if _CJK.match(run[i]) or _CJK.match(run[i + 1])
        )
        feats.extend("u:" + ch for ch in run if _CJK.match(ch))
    return feats


# --- the model ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Prediction:
    """A minor-class code with its confidence (calibrated probability) and the three best classes."""

    label: str
    confidence: float
    top: list[tuple[str, float]] = field(default_factory=list)

    @property
    def needs_triage(self) -> bool:
        """True when the confidence is too low to act on: an operator must classify the case."""
        return self.confidence < TRIAGE_THRESHOLD


@dataclass
class TrainConfig:
    """Hyper-parameters; the defaults are the ones the shipped model was trained with.

    Chosen on held-out templates: word+bigram+unigram features (unigrams alone add ~5 points on unseen
    phrasings), light L2 (heavier L2 underfits the confusable pairs, none overfits template wording).
    """

    min_df: int = 2
    epochs: int = 10
    batch_size: int = 512
    learning_rate: float = 0.1
    l2: float = 3e-5
    seed: int = 20180709
    calibrate: bool = True
    """Fit the softmax temperature on templates held out from a first fit (grouped by template)."""
    calibration_fraction: float = 0.2


class Classifier:
    """Softmax regression over TF-IDF features; see the module docstring for why."""

    def __init__(
        self,
        labels: Sequence[str],
        vocab: dict[str, int],
        idf: np.ndarray,
        weights: np.ndarray,
        bias: np.ndarray,
        temperature: float = 1.0,
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.labels = list(labels)
        self.vocab = vocab
        self.idf = np.asarray(idf, dtype=np.float32)
        self.weights = np.asarray(weights, dtype=np.float32)
        self.bias = np.asarray(bias, dtype=np.float32)
        self.temperature = float(temperature)
        self.meta: dict[str, Any] = dict(meta or {})

    # prediction

    def logits_many(self, texts: Sequence[str]) -> np.ndarray:
        """Raw scores (n, classes) before the temperature; rows without known features get the bias only."""
        indptr, cols, vals = vectorize(texts, self.vocab, self.idf)
        return _sparse_dot(indptr, cols, vals, self.weights) + self.bias

    def proba_many(self, texts: Sequence[str]) -> np.ndarray:
        """Calibrated class probabilities (n, classes)."""
        return softmax(self.logits_many(texts) / self.temperature)

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        """Classify many texts at once (one matrix product; tokenisation dominates).

        The out-of-scope class is never returned: it only takes probability away from the case classes,
        so text that is not a case report gets a low confidence and goes to triage.
        """
        texts = [t if isinstance(t, str) else "" for t in texts]
        if not texts:
            return []
        proba = self.proba_many(texts)
        masked = proba.copy()
        if OUT_OF_SCOPE in self.labels:
            masked[:, self.labels.index(OUT_OF_SCOPE)] = -1.0
        order = np.argsort(-masked, axis=1, kind="stable")[:, :3]
        out: list[Prediction] = []
        for row, idx in zip(proba, order, strict=True):
            top = [(self.labels[i], float(row[i])) for i in idx]
            out.append(Prediction(label=top[0][0], confidence=top[0][1], top=top))
        return out

    def predict(self, text: str) -> Prediction:
        """Classify one text; never raises on odd input (empty text simply gets a low confidence)."""
        return self.predict_many([text])[0]

    # persistence

    def save(self, path: str | Path) -> None:
        """Write ``path`` (.npz: float16 weights, idf, bias) and the JSON sidecar (labels, vocabulary, meta)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as fh:
            np.savez_compressed(
                fh,
                weights=self.weights.astype(np.float16),
                bias=self.bias.astype(np.float32),
                idf=self.idf.astype(np.float16),
            )
        vocab_list = sorted(self.vocab, key=self.vocab.__getitem__)
        sidecar = {
            "format": FORMAT_VERSION,
            "labels": self.labels,
            "temperature": self.temperature,
            "meta": self.meta,
            "vocab": vocab_list,
        }
        path.with_suffix(".json").write_text(
            json.dumps(sidecar, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )

    @classmethod
    def load(cls, path: str | Path) -> Classifier:
        """Read a model written by :meth:`save`."""
        path = Path(path)
        sidecar = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        if sidecar.get("format") != FORMAT_VERSION:
            raise ValueError(f"{path}: unsupported model format {sidecar.get('format')!r}")
        with np.load(path, allow_pickle=False) as npz:
            weights, bias, idf = npz["weights"], npz["bias"], npz["idf"]
        vocab = {f: i for i, f in enumerate(sidecar["vocab"])}
        return cls(sidecar["labels"], vocab, idf, weights, bias, sidecar["temperature"], sidecar.get("meta"))


@lru_cache(maxsize=1)
def load_default() -> Classifier:
    """The model shipped with the package (loaded once; jieba is initialised here too, not on first use)."""
    model = Classifier.load(DEFAULT_MODEL_PATH)
    _tokenizer()
    return model


# --- numerics -------------------------------------------------------------------------------------------


def softmax(z: np.ndarray) -> np.ndarray:
    """Row-wise softmax, stable for large scores."""
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def vectorize(
    texts: Iterable[str], vocab: dict[str, int], idf: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """CSR rows of L2-normalised sublinear TF-IDF vectors: (indptr, column indices, values)."""
    return vectorize_features((features(t) for t in texts), vocab, idf)


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


def _sparse_dot(indptr: np.ndarray, cols: np.ndarray, vals: np.ndarray, w: np.ndarray) -> np.ndarray:
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


def _fit_softmax(
    indptr: np.ndarray,
    cols: np.ndarray,
    vals: np.ndarray,
    y: np.ndarray,
    n_features: int,
    n_classes: int,
    cfg: TrainConfig,
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
    step = 0
    for _epoch in range(cfg.epochs):
        order = rng.permutation(n)
        for start in range(0, n, cfg.batch_size):
            idx = np.sort(order[start : start + cfg.batch_size])
            touched, x = _compact(*_take_rows(indptr, cols, vals, idx))
            p = softmax(x @ w[touched] + b)
            g = (p - onehot[idx]) / len(idx)
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


def _take_rows(
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


def _fit(docs: Sequence[list[str]], y: np.ndarray, classes: list[str], cfg: TrainConfig) -> Classifier:
    """Fit vocabulary, idf and weights on featurised samples (no calibration)."""
    vocab, idf = build_vocab(docs, cfg.min_df)
    indptr, cols, vals = vectorize_features(docs, vocab, idf)
    w, b = _fit_softmax(indptr, cols, vals, y, len(vocab), len(classes), cfg)
    return Classifier(classes, vocab, idf, w, b)


def train(samples: Iterable[dict[str, Any]], config: TrainConfig | None = None) -> Classifier:
    """Train on samples ({"text", "label"} and, for calibration, "template_id"); deterministic.

    With ``calibrate`` the softmax temperature is fitted on a seeded share of each class's templates held
    out from a first fit: scored on its own training sentences a model looks far more certain than it is
    on new wording, and new wording is what it will meet. The final model is then refit on every sample.
    """
    cfg = config or TrainConfig()
    rows = list(samples)
    classes = sorted({r["label"] for r in rows})
    index = {c: i for i, c in enumerate(classes)}
    docs = [features(r["text"]) for r in rows]
    y = np.array([index[r["label"]] for r in rows], dtype=np.int64)
    temperature = 1.0
    if cfg.calibrate and all("template_id" in r for r in rows):
        rng = np.random.default_rng(cfg.seed + 1)
        held: set[str] = set()
        for c in classes:
            tids = sorted({r["template_id"] for r in rows if r["label"] == c})
            k = max(1, round(cfg.calibration_fraction * len(tids)))
            held.update(str(t) for t in rng.choice(tids, size=k, replace=False))
        cal = np.array([r["template_id"] in held for r in rows])
        first = _fit([d for d, h in zip(docs, cal, strict=True) if not h], y[~cal], classes, cfg)
        ip, cols, vals = vectorize_features(
            [d for d, h in zip(docs, cal, strict=True) if h], first.vocab, first.idf
        )
        temperature = fit_temperature(_sparse_dot(ip, cols, vals, first.weights) + first.bias, y[cal])
    model = _fit(docs, y, classes, cfg)
    model.temperature = temperature
    model.meta.update({"n_train": len(rows), "n_features": len(model.vocab), "config": dict(cfg.__dict__)})
    return model
