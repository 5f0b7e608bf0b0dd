"""The features of :func:`features.features`, for a whole batch of texts at once, in numpy.

Why: looking up every character gram of every text in a Python dict was most of the classifier's cost
at intake (~0.6 ms a report). Here each CJK gram is a number (its code points side by side: 21 bits a
character), the vocabulary's grams are one sorted array, and a batch's grams are found with one
``searchsorted``. Latin words and the ?/! cues are few and stay a dict lookup. The result is the same
TF-IDF rows :func:`numerics.vectorize_features` makes from :func:`features.features` (a test holds the
two to each other), with each row's columns in ascending order.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from urbanbrain.domains.cases.classify.features import MAX_GRAM, normalize

_BITS = 21  # a Unicode code point fits in 21 bits, so three fit in an int64
_OTHER = re.compile(r"[a-z]+|[?!]")
_CJK = re.compile(r"^[\u3400-\u4dbf\u4e00-\u9fff]{1,3}$")


def _code(gram: str) -> int:
    out = 0
    for ch in gram:
        out = (out << _BITS) | ord(ch)
    return out


def _is_cjk(cp: np.ndarray) -> np.ndarray:
    return ((cp >= 0x3400) & (cp <= 0x4DBF)) | ((cp >= 0x4E00) & (cp <= 0x9FFF))


class GramIndex:
    """The vocabulary split in two: CJK grams as sorted numbers, everything else by name."""

    def __init__(self, vocab: dict[str, int]) -> None:
        codes, columns = [], []
        self.other: dict[str, int] = {}
        for feature, j in vocab.items():
            if _CJK.match(feature):
                codes.append(_code(feature))
                columns.append(j)
            else:
                self.other[feature] = j
        order = np.argsort(np.asarray(codes, dtype=np.int64), kind="stable")
        self.codes = np.asarray(codes, dtype=np.int64)[order]
        self.columns = np.asarray(columns, dtype=np.int64)[order]
        self.width = len(vocab)

    def columns_of(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every known feature occurrence in ``texts``, repeated as often as it occurs."""
        norm = [normalize(t).replace("\x00", " ") for t in texts]
        joined = "\x00".join(norm)  # NUL is no CJK character, so no gram spans two texts
        cp = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
        row_at = np.cumsum(cp == 0)
        cjk = _is_cjk(cp)
        rows: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        cols: list[np.ndarray] = [np.zeros(0, dtype=np.int64)]
        code = np.zeros(len(cp), dtype=np.int64)
        ok = np.ones(len(cp), dtype=bool)
        for n in range(1, MAX_GRAM + 1):
            # Grams of length n start at 0..len-n; each adds the next character to the one before.
            m = len(cp) - n + 1
            if m <= 0:
                break
            code = (code[:m] << _BITS) | cp[n - 1 : n - 1 + m]
            ok = ok[:m] & cjk[n - 1 : n - 1 + m]
            starts = np.flatnonzero(ok)
            found = self._lookup(code[starts])
            rows.append(row_at[starts][found >= 0])
            cols.append(found[found >= 0])
        for i, text in enumerate(norm):
            seen: set[str] = set()
            for token in _OTHER.findall(text):
                if token in "?!":
                    if token in seen:
                        continue
                    seen.add(token)
                    j = self.other.get("p:" + token)
                else:
                    j = self.other.get("w:" + token)
                if j is not None:
                    rows.append(np.array([i], dtype=np.int64))
                    cols.append(np.array([j], dtype=np.int64))
        return np.concatenate(rows), np.concatenate(cols)

    def _lookup(self, codes: np.ndarray) -> np.ndarray:
        if not len(self.codes):
            return np.full(len(codes), -1, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.codes, codes), len(self.codes) - 1)
        return np.where(self.codes[at] == codes, self.columns[at], -1)

    def vectorize(self, texts: Sequence[str], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR TF-IDF rows, (1 + log count) x idf, each row of unit length."""
        rows, cols = self.columns_of(texts)
        key, counts = np.unique(rows * self.width + cols, return_counts=True)
        rows, cols = key // self.width, key % self.width
        vals = (1.0 + np.log(counts)) * idf[cols].astype(np.float64)
        norms = np.sqrt(np.bincount(rows, weights=vals * vals, minlength=len(texts)))
        norms[norms == 0] = 1.0
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum(np.bincount(rows, minlength=len(texts)), out=indptr[1:])
        return indptr, cols, (vals / norms[rows]).astype(np.float32)
