"""Composite rules (联动研判): several rules' alarms in one group (building) close together in event time.

A composite raises in a group when each of its parts has been raised for some device of the group and the
latest raise of each part lies within ``within_minutes`` of the others; the parts need not still be raised
(smoke that cleared 30 s before the heat rose still counts). Its event time is the latest of those raises.
It clears when no part alarm is open in the group any more. Part transitions are fed in event-time order
within a batch, so the outcome does not depend on how readings were grouped into a batch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .specs import RuleSpec
from .state import RuleState


def on_part(st: RuleState, part: str, kind: str, ts: float, dev: int, group: int) -> tuple[str, float] | None:
    """Feed one part transition of a device in ``group``; return the composite's own (kind, event time)."""
    spec = st.spec
    if kind == "clear":
        left = st.open_parts.get(group, 0) - 1
        if left > 0:
            st.open_parts[group] = left
            return None
        st.open_parts.pop(group, None)
        if group in st.raised:
            st.raised.discard(group)
            return ("clear", ts)
        return None
    st.open_parts[group] = st.open_parts.get(group, 0) + 1
    latest = st.last_raise.setdefault(group, {})
    if part not in latest or ts >= latest[part][0]:
        latest[part] = (ts, dev)
    if group in st.raised or len(latest) < len(spec.parts or ()):
        return None
    times = [latest[p][0] for p in spec.parts or ()]
    if max(times) - min(times) > (spec.within_minutes or 0.0) * 60.0:
        return None
    st.raised.add(group)
    return ("raise", max(times))


def recount(st: RuleState, parts: Sequence[RuleState], dev_group: np.ndarray, n: int) -> None:
    """Open part alarms per group, from the parts' raised flags (after rules or devices changed)."""
    counts = np.zeros(0, dtype=np.int64)
    for part in parts:
        groups = dev_group[:n][part.active[:n]]
        groups = groups[groups >= 0]
        found = np.bincount(groups)
        if len(found) > len(counts):
            found[: len(counts)] += counts
            counts = found
        else:
            counts[: len(found)] += found
    st.open_parts = {int(g): int(c) for g, c in enumerate(counts.tolist()) if c}


def detail(spec: RuleSpec, st: RuleState, group: int, names: Sequence[str]) -> dict[str, object]:
    """The parts' latest raises in ``group``, for the composite alarm's detail."""
    latest = st.last_raise.get(group, {})
    parts = {
        p: {"device": names[latest[p][1]], "raised_at": latest[p][0]} for p in spec.parts or () if p in latest
    }
    return {"within_minutes": spec.within_minutes, "parts": parts}
