"""Snapshots of a ``RuleEngine``: an npz archive (numpy arrays plus one JSON document, no pickle), so a
restarted worker goes on with exactly the alarms, runs and trends it had."""

from __future__ import annotations

import io
import json
import math
import sys
from collections.abc import Sequence
from typing import Any, TypeVar

import numpy as np

from .specs import RuleSpec

# The engine's class is handed in, not imported: the engine imports this module.
E = TypeVar("E")

VERSION = 1


def dump(engine: Any) -> bytes:
    """The state of a :class:`~.engine.RuleEngine` as npz bytes."""
    reg = engine._registry
    n = reg.n
    arrays: dict[str, np.ndarray] = {
        "dev_type": reg.dev_type[:n],
        "dev_group": reg.dev_group[:n],
        "last_ts": engine._last_ts[:, :n],
        "last_val": engine._last_val[:, :n],
    }
    composites: dict[str, Any] = {}
    for i, st in enumerate(engine._states):
        for name, array in st.arrays.items():
            arrays[f"rule{i}.{name}"] = array[:n]
        if st.spec.kind == "composite":
            composites[st.spec.code] = {
                "raised": sorted(st.raised),
                "last_raise": [
                    [group, part, ts, dev]
                    for group, latest in sorted(st.last_raise.items())
                    for part, (ts, dev) in latest.items()
                ],
            }
    meta = {
        "version": VERSION,
        "allowed_lateness_s": engine.allowed_lateness_s,
        "watermark": engine._watermark if math.isfinite(engine._watermark) else None,
        "measurements": engine._names,
        "slots": list(engine._slots),
        "ids": reg.ids,
        "type_names": reg.type_names,
        "group_names": reg.group_names,
        "rules": [spec.to_dict() for spec in engine._rules],
        "composites": composites,
    }
    arrays["meta"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    out = io.BytesIO()
    np.savez(out, allow_pickle=False, **arrays)
    return out.getvalue()


def load(cls: type[E], blob: bytes, rules: Sequence[RuleSpec], allowed_lateness_s: float | None) -> E:
    """A ``cls`` (:class:`~.engine.RuleEngine`) in the state :func:`dump` saved."""
    try:
        archive = np.load(io.BytesIO(blob), allow_pickle=False)
        meta = json.loads(archive["meta"].tobytes())
    except (OSError, ValueError, KeyError) as exc:
        raise ValueError(f"not a rule engine snapshot: {exc}") from exc
    if meta.get("version") != VERSION:
        raise ValueError(f"snapshot version {meta.get('version')!r}; this engine reads version {VERSION}")
    lateness = meta["allowed_lateness_s"] if allowed_lateness_s is None else allowed_lateness_s
    engine: Any = cls([], lateness)  # type: ignore[call-arg]
    for name in meta["measurements"]:
        engine.measurement_code(name)  # codes callers hold stay valid
    _load_registry(engine, meta, archive)
    then = [RuleSpec.from_dict(d) for d in meta["rules"]]
    engine._install(then, {})
    for row, name in enumerate(meta["slots"]):
        engine._last_ts[engine._slots[name], : engine._registry.n] = archive["last_ts"][row]
        engine._last_val[engine._slots[name], : engine._registry.n] = archive["last_val"][row]
    for i, st in enumerate(engine._states):
        for name, array in st.arrays.items():
            array[: engine._registry.n] = archive[f"rule{i}.{name}"]
        saved = meta["composites"].get(st.spec.code)
        if saved is not None:
            st.raised = set(saved["raised"])
            for group, part, ts, dev in saved["last_raise"]:
                st.last_raise.setdefault(group, {})[part] = (ts, dev)
    engine._watermark = -math.inf if meta["watermark"] is None else meta["watermark"]
    engine._after_change()
    if list(rules) != then:
        engine.replace_rules(rules)
    return engine  # type: ignore[no-any-return]


def _load_registry(engine: Any, meta: dict[str, Any], archive: Any) -> None:
    reg = engine._registry
    reg.ids = list(meta["ids"])
    reg.index = {d: i for i, d in enumerate(reg.ids)}
    reg.type_names, reg.group_names = list(meta["type_names"]), list(meta["group_names"])
    reg.type_codes = {name: i for i, name in enumerate(reg.type_names)}
    reg.group_codes = {name: i for i, name in enumerate(reg.group_names)}
    reg.dev_type = np.array(archive["dev_type"], dtype=np.int32)
    reg.dev_group = np.array(archive["dev_group"], dtype=np.int32)
    reg.id_str_bytes = sum(map(sys.getsizeof, reg.ids))
