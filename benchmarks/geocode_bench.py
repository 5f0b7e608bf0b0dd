"""Addresses in words: how often the geocoder places a report in the right street, beside exact-match lookup.

The set (``benchmarks/data/geocode_eval/addresses.jsonl``, 194 place phrases) was written by a writer who
never saw the gazetteer or the geocoder: landmarks, metro exits, villages, intersections, loosely written
building addresses, colloquial area names, typos and Cantonese, and 17 phrases that name no place in Futian
(我家楼下, 罗湖东门). For each phrase the truth is its street (and community where the writer was sure).

Printed, for the geocoder and for the baseline (the text looked up exactly as a building address, a division
name or a landmark name, as a form's address field would be): the share of findable phrases placed in the
right street, in the right community (where known), placed wrongly, and not found; and the share of
unfindable phrases correctly left unplaced. Also the speed (phrases/s).

The demo registry's streets and communities are approximate (Voronoi partitions of hand-estimated centres,
see ``urbanbrain/demo/futian_data/ATTRIBUTION.md``), so a right landmark can still fall in a neighbouring
street near a border: the street score is a floor on the geocoder's own accuracy.

Run from the repository root: ``python benchmarks/geocode_bench.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SET = ROOT / "benchmarks" / "data" / "geocode_eval" / "addresses.jsonl"


def exact(geocoder: Any, text: str) -> Any:
    """The baseline: the whole text must be exactly a known name (a form's address field looked up)."""
    from urbanbrain.domains.registry.geocode import Found, normalize

    t = normalize(text)
    for p in geocoder.places:
        if p.name == t:
            return Found(p.lon, p.lat, p.precision, p.name)
    for houses in geocoder.houses.values():
        for lon, lat, _, _, address in houses:
            if normalize(address) == t:
                return Found(lon, lat, "building", address)
    return None


def main() -> int:
    rows = [json.loads(x) for x in SET.read_text(encoding="utf-8").splitlines() if x.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        env = dict(os.environ, URBANBRAIN_DATA_DIR=tmp, URBANBRAIN_DATABASE_URL=f"sqlite:///{tmp}/ub.db")
        subprocess.run(
            [sys.executable, "-m", "urbanbrain.cli", "seed", "futian", "--scale", "0.2"],
            env=env,
            check=True,
            capture_output=True,
        )
        os.environ.update(env)
        from urbanbrain.core.config import Settings
        from urbanbrain.core.context import Platform
        from urbanbrain.domains.registry import spatial
        from urbanbrain.domains.registry.geocode import get_geocoder

        platform = Platform.build(Settings())
        try:
            with platform.db.session() as session:
                geocoder = get_geocoder(platform, session)
                lookup = spatial.get_lookup(platform, session)
            results = {}
            for name, fn in (("geocoder", geocoder.find), ("exact match", lambda t: exact(geocoder, t))):
                t0 = time.perf_counter()
                found = [fn(r["text"]) for r in rows]
                rate = len(rows) / (time.perf_counter() - t0)
                where = [lookup.locate(f.lon, f.lat) if f else None for f in found]
                results[name] = (found, where, rate)
        finally:
            platform.close()
    findable = [i for i, r in enumerate(rows) if r["findable"]]
    unfindable = [i for i, r in enumerate(rows) if not r["findable"]]
    with_community = [i for i in findable if rows[i].get("community")]
    print(
        f"{len(rows)} place phrases: {len(findable)} findable ({len(with_community)} with a community), "
        f"{len(unfindable)} naming no place in Futian"
    )
    print(
        f"  {'':<14}{'street':>9}{'community':>11}{'wrong':>8}{'not found':>11}{'refused':>9}{'phrases/s':>11}"
    )
    for name, (found, where, rate) in results.items():
        street = sum(1 for i in findable if where[i] and where[i].street_code == rows[i]["street"])
        community = sum(
            1 for i in with_community if where[i] and where[i].community_code == rows[i]["community"]
        )
        missing = sum(1 for i in findable if found[i] is None)
        refused = sum(1 for i in unfindable if found[i] is None)
        print(
            f"  {name:<14}{street / len(findable):>9.1%}{community / max(1, len(with_community)):>11.1%}"
            f"{(len(findable) - street - missing) / len(findable):>8.1%}{missing / len(findable):>11.1%}"
            f"{refused / max(1, len(unfindable)):>9.1%}{rate:>11,.0f}"
        )
    found, where, _ = results["geocoder"]
    kinds: dict[str, list[int]] = {}
    for i in findable:
        kinds.setdefault(rows[i]["kind"], []).append(i)
    print("  geocoder by kind (right street / n): " + ", ".join(
        f"{k} {sum(1 for i in ix if where[i] and where[i].street_code == rows[i]['street'])}/{len(ix)}"
        for k, ix in sorted(kinds.items())
    ))  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
