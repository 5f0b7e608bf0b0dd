"""Free Chinese text to what dispatch needs: the class, its department, the kind of request, an emergency.

One TF-IDF vector of character n-grams (``features.py``) feeds linear heads trained on the same corpus:
softmax regressions for ``minor`` (the taxonomy's minor classes plus an out-of-scope class for text that is
no request), ``department`` (the owning departments, each pooling its classes' examples), ``kind``
(consultation, complaint, help, report, suggestion) and ``emergency`` (no / yes), and a complement naive
Bayes over departments (``department_nb``). Routing acts on the department: its probability blends the sum
of its classes' probabilities, the department head's and naive Bayes', in the mix calibration chose, so a report that is surely for the market regulator but torn between *expired food* and
*no price tags* still goes out at once, and the department can fix the class.

Confidence is calibrated on writers the model did not see (``train.py`` holds each corpus writer out in
turn): each head's softmax temperature and the department threshold come from those out-of-writer
predictions, the threshold the lowest at which what is sent automatically stays right at least
:data:`TARGET_PRECISION` of the time. Below it a dispatcher decides (``Prediction.needs_triage``).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from urbanbrain.domains.cases.classify.grams import GramIndex
from urbanbrain.domains.cases.classify.numerics import softmax, sparse_dot

DATA_DIR = Path(__file__).with_name("data")
DEFAULT_MODEL_PATH = DATA_DIR / "model.npz"

FORMAT_VERSION = 3
READABLE_FORMATS = (2, 3)
"""Format 3 stores the wide heads sparse (:func:`sparsify`); format 2 (every weight, int8) still loads."""

KEEP_SHARE = {"minor": 0.08, "department": 0.1}
"""The share of each wide head's weights a saved model keeps (the largest, after centring; see
:func:`sparsify`). Chosen on the training corpus alone: against every weight kept, 99.9% of the reports sent
without a person go to the same department, 0.05% change between sent and held for triage, and the
department's probability moves by under 0.02 for 99% of reports; the file shrinks from 21 MB to 4 MB."""
OUT_OF_SCOPE = "OTHER"
"""Minor-head label of text that is no request (chit-chat, a test message); never returned as a class."""

KINDS = ("consultation", "complaint", "help", "report", "suggestion")
TARGET_PRECISION = 0.95
"""What is dispatched without a person must go to the right department at least this often."""

TRIAGE_THRESHOLD = 0.6
"""Fallback department threshold for a model file that carries none (every shipped model carries its own)."""


@dataclass(frozen=True)
class Head:
    """One softmax layer over the shared features."""

    labels: list[str]
    weights: np.ndarray  # (features, labels)
    bias: np.ndarray
    temperature: float = 1.0

    def proba(self, indptr: np.ndarray, cols: np.ndarray, vals: np.ndarray) -> np.ndarray:
        logits = sparse_dot(indptr, cols, vals, self.weights) + self.bias
        return softmax(logits / self.temperature)


@dataclass(frozen=True)
class Prediction:
    """What the model makes of one text.

    ``label``/``confidence`` are the best minor class and its probability; ``department`` and
    ``department_confidence`` the owning department (summed over its classes) that routing acts on.
    """

    label: str
    confidence: float
    department: str
    department_confidence: float
    threshold: float
    kind: str = "report"
    kind_confidence: float = 0.0
    emergency: bool = False
    emergency_score: float = 0.0
    top: list[tuple[str, float]] = field(default_factory=list)

    @property
    def needs_triage(self) -> bool:
        """True when the department is too unsure to act on: a dispatcher must decide."""
        return self.department_confidence < self.threshold


class Classifier:
    """The shared vocabulary and the three heads; see the module docstring for why this shape."""

    def __init__(
        self,
        vocab: dict[str, int],
        idf: np.ndarray,
        heads: dict[str, Head],
        departments: dict[str, str],
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.vocab = vocab
        self.idf = np.asarray(idf, dtype=np.float32)
        self.heads = heads
        self.departments = dict(departments)  # minor class -> department code
        self.meta: dict[str, Any] = dict(meta or {})
        self._grams: GramIndex | None = None  # built on first use: training never needs it
        minor = heads["minor"]
        self._dept_labels = sorted({departments[c] for c in minor.labels if c in departments})
        # Summing class probabilities into departments is one product with a 0/1 matrix.
        self._to_dept = np.zeros((len(minor.labels), len(self._dept_labels)), dtype=np.float32)
        for i, c in enumerate(minor.labels):
            if c in departments:
                self._to_dept[i, self._dept_labels.index(departments[c])] = 1.0

    @property
    def labels(self) -> list[str]:
        return self.heads["minor"].labels

    @property
    def threshold(self) -> float:
        return float(self.meta.get("threshold", TRIAGE_THRESHOLD))

    @property
    def version(self) -> str:
        return str(self.meta.get("version", "unversioned"))

    def vectorize(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """TF-IDF rows of ``texts`` (the batch path: :mod:`grams`, numbers instead of dict lookups)."""
        if self._grams is None:
            self._grams = GramIndex(self.vocab)
        return self._grams.vectorize(texts, self.idf)

    def proba(self, texts: Sequence[str], head: str = "minor") -> np.ndarray:
        return self.heads[head].proba(*self.vectorize(texts))

    def predict_many(self, texts: Sequence[str]) -> list[Prediction]:
        """Classify many texts with one vectorisation and one product per head (featurising dominates)."""
        texts = [t if isinstance(t, str) else "" for t in texts]
        if not texts:
            return []
        x = self.vectorize(texts)
        minor = self.heads["minor"].proba(*x)
        dept = minor @ self._to_dept  # out-of-scope mass belongs to no department
        # The blend calibration chose: summed classes, the department head, complement naive Bayes.
        mix = self.meta.get("department_mix") or [1.0, 0.0, 0.0]
        blended = mix[0] * dept
        for weight, name in zip(mix[1:], ("department", "department_nb"), strict=True):
            if weight and name in self.heads:
                own = self.heads[name].proba(*x)
                blended = (
                    blended + weight * own[:, [self.heads[name].labels.index(d) for d in self._dept_labels]]
                )
        dept = blended
        kind = self.heads["kind"].proba(*x) if "kind" in self.heads else None
        emerg = self.heads["emergency"].proba(*x)[:, 1] if "emergency" in self.heads else None
        masked = minor.copy()
        other = np.zeros(len(texts), dtype=np.float32)
        if OUT_OF_SCOPE in self.labels:
            other = minor[:, self.labels.index(OUT_OF_SCOPE)].copy()
            masked[:, self.labels.index(OUT_OF_SCOPE)] = -1.0
        # An emergency needs words that say so: a text with no known feature, or one that is surely no
        # request at all, is never one (its emergency score is only the head's prior).
        said = (np.diff(x[0]) > 0) & (other < 0.5)
        out: list[Prediction] = []
        for i in range(len(texts)):
            d = int(np.argmax(dept[i]))
            department = self._dept_labels[d]
            # The class is the best one of the chosen department, so class and routing never disagree.
            in_dept = np.where(self._to_dept[:, d] > 0, masked[i], -1.0)
            order = np.argsort(-masked[i], kind="stable")[:3]
            best = int(np.argmax(in_dept))
            k = int(np.argmax(kind[i])) if kind is not None else None
            out.append(
                Prediction(
                    label=self.labels[best],
                    confidence=float(minor[i, best]),
                    department=department,
                    department_confidence=float(dept[i, d]),
                    threshold=self.threshold,
                    kind=self.heads["kind"].labels[k] if k is not None else "report",
                    kind_confidence=float(kind[i, k]) if kind is not None and k is not None else 0.0,
                    emergency=bool(
                        emerg is not None
                        and said[i]
                        and emerg[i] >= self.meta.get("emergency_threshold", 0.5)
                    ),
                    emergency_score=float(emerg[i]) if emerg is not None else 0.0,
                    top=[(self.labels[j], float(minor[i, j])) for j in order],
                )
            )
        return out

    def predict(self, text: str) -> Prediction:
        """Classify one text; never raises on odd input (empty text simply gets a low confidence)."""
        return self.predict_many([text])[0]

    # persistence

    def save(self, path: str | Path) -> None:
        """Write ``path`` (.npz: idf, biases, int8 weights with a scale per feature, the wide heads sparse)
        and its JSON sidecar (labels, vocabulary, meta). A dense int8 model of 112k features by 221
        classes is 21 MB; keeping the largest :data:`KEEP_SHARE` of the wide heads' weights makes it 4."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, np.ndarray] = {"idf": self.idf.astype(np.float16)}
        for name, head in self.heads.items():
            q, scale = quantize(_compressed(name, head.weights))
            arrays[f"{name}.scale"] = scale
            arrays[f"{name}.bias"] = head.bias.astype(np.float32)
            if name in KEEP_SHARE:
                arrays.update({f"{name}.{k}": v for k, v in _to_sparse(q).items()})
            else:
                arrays[f"{name}.q"] = q
        with path.open("wb") as fh:
            np.savez_compressed(fh, **arrays)  # type: ignore[arg-type]
        sidecar = {
            "format": FORMAT_VERSION,
            "heads": {n: {"labels": h.labels, "temperature": h.temperature} for n, h in self.heads.items()},
            "departments": self.departments,
            "meta": self.meta,
            "vocab": sorted(self.vocab, key=self.vocab.__getitem__),
        }
        path.with_suffix(".json").write_text(
            json.dumps(sidecar, ensure_ascii=False, separators=(",", ":")), encoding="utf-8"
        )

    @classmethod
    def load(cls, path: str | Path) -> Classifier:
        """Read a model written by :meth:`save`."""
        path = Path(path)
        sidecar = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
        if sidecar.get("format") not in READABLE_FORMATS:
            raise ValueError(f"{path}: unsupported model format {sidecar.get('format')!r}")
        with np.load(path, allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
        heads = {
            name: Head(
                spec["labels"],
                _weights(arrays, name, len(spec["labels"])),
                arrays[f"{name}.bias"],
                float(spec["temperature"]),
            )
            for name, spec in sidecar["heads"].items()
        }
        vocab = {f: i for i, f in enumerate(sidecar["vocab"])}
        return cls(vocab, arrays["idf"], heads, sidecar["departments"], sidecar.get("meta"))


def _weights(arrays: dict[str, np.ndarray], head: str, width: int) -> np.ndarray:
    if f"{head}.weights" in arrays:  # written unquantized (a model saved while it was being trained)
        return arrays[f"{head}.weights"].astype(np.float32)
    if f"{head}.q" in arrays:
        q = arrays[f"{head}.q"]
    else:
        q = _from_sparse(arrays[f"{head}.count"], arrays[f"{head}.step"], arrays[f"{head}.value"], width)
    return q.astype(np.float32) * arrays[f"{head}.scale"].astype(np.float32)[:, None]


def as_stored(head: str, w: np.ndarray) -> np.ndarray:
    """The weights a saved and loaded model has for ``w``: what calibration must measure (``train.py``)."""
    q, scale = quantize(_compressed(head, w))
    return q.astype(np.float32) * scale.astype(np.float32)[:, None]


def _compressed(head: str, w: np.ndarray) -> np.ndarray:
    """Every head's rows centred (naive Bayes' weights of a feature are large and nearly equal across
    departments: eight bits would keep only the part every department shares); the wide heads sparse."""
    if head in KEEP_SHARE:
        return sparsify(w, KEEP_SHARE[head])
    return w - np.median(w, axis=1, keepdims=True)


def sparsify(w: np.ndarray, share: float) -> np.ndarray:
    """``w`` with each row centred on its median and all but the largest ``share`` of weights set to zero.

    Centring changes nothing a softmax sees: adding one number to a feature's weight for every label adds
    the same to every label's score. It makes most of a row near zero, so the largest weights carry it.
    """
    keep = int(round(share * w.size))
    if np.count_nonzero(w) <= keep:  # already sparse (a loaded model saved again): saving loses nothing more
        return w
    w = w - np.median(w, axis=1, keepdims=True)
    if np.count_nonzero(w) <= keep:
        return w
    flat = np.abs(w).ravel()
    cut = np.partition(flat, flat.size - keep)[flat.size - keep]
    return np.where(np.abs(w) >= cut, w, 0.0).astype(w.dtype)


def _to_sparse(q: np.ndarray) -> dict[str, np.ndarray]:
    """An int8 matrix as: nonzeros per row, the label index of each as a step from the previous one in
    its row (small numbers, so they compress well), and the values."""
    rows, cols = np.nonzero(q)
    first = np.r_[True, rows[1:] != rows[:-1]] if len(rows) else np.zeros(0, dtype=bool)
    step = np.where(first, cols, np.diff(cols, prepend=0))
    wide = np.uint8 if q.shape[1] <= 256 else np.uint16
    return {
        "count": np.bincount(rows, minlength=q.shape[0]).astype(np.uint16),
        "step": step.astype(wide),
        "value": q[rows, cols],
    }


def _from_sparse(count: np.ndarray, step: np.ndarray, value: np.ndarray, width: int) -> np.ndarray:
    rows = np.repeat(np.arange(len(count)), count.astype(np.int64))
    starts = np.cumsum(count.astype(np.int64)) - count.astype(np.int64)
    cols = step.astype(np.int64)
    # Steps restart at each row's first nonzero: a cumulative sum, less the sum before the row began.
    total = np.cumsum(cols)
    before = np.repeat(total[starts[count > 0]] - cols[starts[count > 0]], count[count > 0].astype(np.int64))
    q = np.zeros((len(count), width), dtype=np.int8)
    q[rows, total - before] = value
    return q


def quantize(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 weights and a scale per row (feature): w ~= q * scale[:, None].

    The scale is kept in float16 (half the bytes) when the head's largest is a float16 of full precision;
    rows far smaller lose precision there, but their weights move no score by more than ~1e-5. A head of
    tiny weights keeps float32 scales: float16 would round them all to zero and store nothing."""
    scale = np.abs(w).max(axis=1).astype(np.float32) / 127.0
    if scale.size == 0 or 2.0**-10 <= scale.max() <= float(np.finfo(np.float16).max):
        scale = scale.astype(np.float16)  # rounded first, so each row's largest weight stays exact
    scale = np.where(scale == 0, 1.0, scale).astype(scale.dtype)
    q = np.clip(np.rint(w / scale.astype(np.float32)[:, None]), -127, 127).astype(np.int8)
    return q, scale


@lru_cache(maxsize=1)
def load_default() -> Classifier:
    """The model in use: the promoted version when one was promoted here, else the one shipped."""
    return Classifier.load(DEFAULT_MODEL_PATH)
