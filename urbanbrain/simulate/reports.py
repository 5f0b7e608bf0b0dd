"""Citizen, hotline and grid-worker case reports, generated deterministically: the classifier's training
corpus and the texts of the simulated month of cases.

No public labelled corpus of Futian case reports exists, so the classifier is trained on reports generated
here from the phrasings of each minor class (``urbanbrain/domains/cases/phrasings.toml``: colloquial app
reports, 12345 hotline transcripts, terse grid-worker notes, QR-code facility reports), slot-filled with real
Futian streets, communities, roads, landmarks and rivers, with chatter, punctuation changes and typos.
Texts that are no case report at all are labelled ``OTHER``.

The held-out split is made by *template*: about 20% of each class's phrasings never appear in training, so
held-out accuracy measures generalisation to unseen wording, not recall of memorised sentences. It says
nothing about reports real people wrote: judge the classifier on those too.
"""

from __future__ import annotations

import csv
import json
import random
import re
import tomllib
from collections.abc import Iterable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

SEED = 20180709
"""Seed of every random choice (the seed article's date)."""
PER_TEMPLATE = 15
"""Samples generated per template (duplicates are dropped, so a few terse templates yield fewer)."""
TEST_FRACTION = 0.2
"""Share of each class's templates held out as the test split."""
CORPUS_PATH = Path(__file__).with_name("data") / "corpus.jsonl"

_T = tuple[list[str], dict[str, list[str]]]


@cache
def phrasings() -> dict[str, Any]:
    """The phrasings file of the cases domain, read once."""
    text = resources.files("urbanbrain.domains.cases").joinpath("phrasings.toml").read_text("utf-8")
    return tomllib.loads(text)


def _division_names() -> tuple[list[str], list[str]]:
    """Street and community names from the registry's official division list (communities shortened)."""
    text = resources.files("urbanbrain.demo.futian_data").joinpath("divisions.csv").read_text("utf-8")
    streets: list[str] = []
    communities: list[str] = []
    for row in csv.DictReader(text.splitlines()):
        if row["level"] == "street" and row["name"].endswith("街道"):
            streets.append(row["name"])
        elif row["level"] == "community" and row["name"].endswith("社区居委会"):
            communities.append(row["name"].removesuffix("居委会"))
    return streets, communities


def _pools() -> dict[str, list[str]]:
    streets, communities = _division_names()
    return {**{k: v for k, v in phrasings()["shared"].items() if k != "cn_num"}, "street": streets,
            "comm": communities}  # fmt: skip


_SLOT = re.compile(r"\{(\w+)\}")


def _shared_slot(name: str, rng: random.Random, values: dict[str, str]) -> str:
    """Draw one value of a shared slot (places, times, numbers)."""
    pools = _pool_cache()
    if name == "road2":
        road = values.get("road")
        return rng.choice([r for r in pools["road"] if r != road])
    if name in pools:
        return rng.choice(pools[name])
    if name == "h":
        hour = rng.randint(1, 12)
        return phrasings()["shared"]["cn_num"][hour] if rng.random() < 0.4 else str(hour)
    if name in ("n", "n2"):
        return str(rng.randint(2, 9))
    if name in ("m", "m2"):
        return str(rng.randint(1, 120))
    if name == "nn":
        return str(rng.randint(10, 60))
    if name == "code":
        return f"{rng.randint(0, 99999):05d}"
    if name == "code4":
        return f"{rng.randint(0, 9999):04d}"
    raise KeyError(f"unknown slot {{{name}}}")


def fill(template: str, slots: dict[str, list[str]], rng: random.Random) -> str:
    """Fill every slot; a slot named twice in one report gets the same value. Nested slots are expanded."""
    values: dict[str, str] = {}

    def sub(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in values:
            raw = rng.choice(slots[name]) if name in slots else _shared_slot(name, rng, values)
            values[name] = _SLOT.sub(sub, raw)
        return values[name]

    return _SLOT.sub(sub, template)


def _noise(text: str, rng: random.Random) -> str:
    """Add what real reports carry: framing, chatter, loose punctuation, the odd typo."""
    noise = phrasings()["noise"]
    chatter, homophones = phrasings()["shared"]["chatter"], noise["homophones"]
    if rng.random() < 0.07:
        text = fill(rng.choice(noise["transcripts"]), {}, rng).replace("<text>", text.rstrip("。！!"))
    elif rng.random() < 0.3:
        text = fill(rng.choice(noise["prefixes"]), {}, rng) + text
    if rng.random() < 0.12:
        text = text.rstrip("。！!") + "。" + rng.choice(chatter)
    if rng.random() < 0.35:
        sep = "" if text.endswith(("。", "！", "!", "？", "，")) else rng.choice(["，", "。", " ", "！"])
        text = text + sep + fill(rng.choice(noise["suffixes"]), {}, rng)
    r = rng.random()
    if r < 0.12:
        text = text.replace("，", rng.choice([" ", ",", "  "]))
    elif r < 0.18:
        text = text.replace("，", "").replace("。", "")
    if rng.random() < 0.15:
        spots = [i for i, ch in enumerate(text) if ch in homophones]
        if spots:
            i = rng.choice(spots)
            text = text[:i] + homophones[text[i]] + text[i + 1 :]
    if rng.random() < 0.05 and len(text) > 10:
        i = rng.randrange(len(text))
        text = text[:i] + text[i + 1 :]
    return text


def _template_sets() -> dict[str, _T]:
    """Every label's templates: the case classes in file order, then the out-of-scope label."""
    data = phrasings()
    out: dict[str, _T] = {code: (c["templates"], c.get("slots", {})) for code, c in data["classes"].items()}
    scope = data["out_of_scope"]
    out[scope["label"]] = (scope["templates"], scope.get("slots", {}))
    return out


@cache
def _pool_cache() -> dict[str, list[str]]:
    return _pools()


def held_out_templates(seed: int = SEED) -> set[str]:
    """Template ids of the test split: a seeded ~20% of each label's templates (at least two)."""
    rng = random.Random(seed ^ 0x5EED)
    held: set[str] = set()
    for label, (templates, _slots) in _template_sets().items():
        ids = [f"{label}-{i:02d}" for i in range(len(templates))]
        k = max(2, round(TEST_FRACTION * len(ids)))
        held.update(rng.sample(ids, k))
    return held


def generate(seed: int = SEED, per_template: int = PER_TEMPLATE) -> list[dict[str, str]]:
    """Every sample, in a fixed order: {"text", "label", "template_id", "split"}."""
    held = held_out_templates(seed)
    samples: list[dict[str, str]] = []
    for label, (templates, slots) in _template_sets().items():
        for i, template in enumerate(templates):
            template_id = f"{label}-{i:02d}"
            rng = random.Random(f"{seed}:{template_id}")
            seen: set[str] = set()
            for _attempt in range(per_template * 6):
                text = _noise(fill(template, slots, rng), rng)
                if text in seen:
                    continue
                seen.add(text)
                split = "test" if template_id in held else "train"
                samples.append({"text": text, "label": label, "template_id": template_id, "split": split})
                if len(seen) == per_template:
                    break
    return samples


def write_corpus(path: Path = CORPUS_PATH, samples: Iterable[dict[str, str]] | None = None) -> int:
    """Write the corpus as JSON lines (UTF-8, one sample a line); returns the number written."""
    rows = list(generate() if samples is None else samples)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n")
    return len(rows)


def load_corpus(path: Path = CORPUS_PATH) -> list[dict[str, Any]]:
    """Read the committed corpus."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
