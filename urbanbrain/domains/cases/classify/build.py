"""Train the shipped model from the corpus and write it: ``python -m urbanbrain.domains.cases.classify.build``.

Prints the out-of-writer scores the calibration measured (each corpus writer held out in turn), then writes
``data/model.npz`` and ``data/model.json``. It never reads the held evaluation set: the scores on that are
``benchmarks/classify_bench.py``'s to print.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from urbanbrain.domains.cases.classify.corpus import load_corpus, minors_and_departments
from urbanbrain.domains.cases.classify.model import DEFAULT_MODEL_PATH
from urbanbrain.domains.cases.classify.train import train


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--version", default="shipped")
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    samples = load_corpus()
    minors, departments = minors_and_departments()
    writers: dict[str, int] = {}
    for s in samples:
        writers[s.writer] = writers.get(s.writer, 0) + 1
    print(f"corpus: {len(samples)} samples from {len(writers)} writers: {writers}")
    model = train(samples, minors, departments)
    model.meta["version"] = args.version
    print(f"trained in {time.perf_counter() - t0:.1f} s, {len(model.vocab)} features")
    print(json.dumps(model.meta.get("out_of_writer"), ensure_ascii=False, indent=1))
    print(
        f"department threshold {model.threshold:.2f}, emergency threshold {model.meta.get('emergency_threshold')}"
    )
    model.save(args.out)
    size = args.out.stat().st_size + args.out.with_suffix(".json").stat().st_size
    print(f"wrote {args.out} ({size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
