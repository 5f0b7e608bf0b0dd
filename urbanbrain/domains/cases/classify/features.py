"""What the classifier reads of a text: character n-grams, whole Latin words and a few punctuation cues.

Why characters and not words: citizens write with typos (黄岗 for 皇岗), Cantonese and Hakka loanwords
(冇, 嘅, 佢), run-on sentences and no spaces, and a word segmenter trained on newspaper text cuts exactly
those wrong. Overlapping 1- to 3-character grams catch a word, its misspelling's surviving halves and
unseen compounds alike, and they cost a fraction of segmentation: jieba was half of intake's CPU, this is
a dictionary lookup per gram.
"""

from __future__ import annotations

import re
import unicodedata

_DIGITS = re.compile(r"[0-9]+")
_RUNS = re.compile(r"[a-z]+|[\u3400-\u4dbf\u4e00-\u9fff]+|[?!]")

MAX_GRAM = 3


def normalize(text: str) -> str:
    """NFKC (full-width to half-width, so ？ is ?), lower case, and every number to "0"."""
    return _DIGITS.sub("0", unicodedata.normalize("NFKC", text).lower())


def features(text: str) -> list[str]:
    """The feature strings of one text, repeated as often as they occur.

    CJK runs give their 1..3-grams; a Latin word counts whole ("w:coco") so a QR prefix does not look like
    a word; "?" and "!" count once each, as cues of a question or of anger (the request's kind).
    """
    out: list[str] = []
    seen_marks: set[str] = set()
    for run in _RUNS.findall(normalize(text)):
        first = run[0]
        if first in "?!":
            if first not in seen_marks:
                seen_marks.add(first)
                out.append("p:" + first)
        elif "a" <= first <= "z":
            out.append("w:" + run)
        else:
            n = len(run)
            out.extend(run)
            out.extend(run[i : i + 2] for i in range(n - 1))
            out.extend(run[i : i + 3] for i in range(n - 2))
    return out
