"""How each kind of rule reads a batch: vectorised over every device's readings at once, Python-level work
only for the readings where an alarm is raised or cleared.

Every kind turns readings into a decision per row (RAISE, CLEAR or HOLD) and lets ``scan.settle`` apply
hysteresis. Threshold rules see late readings too; the sequential kinds see in-order readings only, so a
late reading never rewinds a run, a rate or a trend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from .batch import View
from .scan import CLEAR, HOLD, RAISE, Bools, Floats, Ints, ends, first_row, run_origin, settle
from .specs import RuleSpec
from .state import RuleState

# (cause, event time, device index, "raise" | "clear", reading value or None, detail). The cause is the
# event time of the reading that made the transition, +inf for the watermark's: transitions are put in
# cause order, which keeps each alarm's raises and clears alternating even where event times are not
# monotone (a silence raised at last reading + minutes, cleared by a reading the clock had run ahead of).
Raw = tuple[float, float, int, str, float | None, dict[str, Any]]
Detail = Callable[[int, bool], dict[str, Any]]


def run(
    spec: RuleSpec,
    st: RuleState,
    every: View,
    ordered: View,
    watermark: float,
    lateness: float,
    since: float = -np.inf,
) -> list[Raw]:
    """The transitions of one rule over one batch; updates the rule's state. ``since``: when the platform
    started listening (absence counts from it at the earliest)."""
    if spec.kind == "threshold":
        return threshold(spec, st, every) if len(every) else []
    if not len(ordered):
        return []
    if spec.kind == "absence":
        return absence(spec, st, ordered, watermark, lateness, since)
    return _SEQUENTIAL[spec.kind](spec, st, ordered)


def _base(spec: RuleSpec) -> dict[str, Any]:
    return {"op": spec.op, "threshold": spec.threshold, "clear_value": spec.clear}


def _emit(
    st: RuleState, view: View, raising: Bools, clearing: Callable[[], Bools], detail: Detail
) -> list[Raw]:
    """Settle the alarm over the batch from the rows' raise and clear conditions; write its end state."""
    initial = st.active[view.dev]
    if not initial.any() and not raising.any():
        return []  # the usual batch: nothing raised before, nothing raises now
    decision = np.where(raising, RAISE, np.where(clearing(), CLEAR, HOLD)).astype(np.int8)
    state, before = settle(decision, view.start, initial)
    end = ends(view.start)
    st.active[view.dev[end]] = state[end]
    out: list[Raw] = []
    for r in np.flatnonzero(state != before).tolist():
        up, t = bool(state[r]), float(view.t[r])
        out.append((t, t, int(view.dev[r]), "raise" if up else "clear", float(view.v[r]), detail(r, up)))
    return out


def threshold(spec: RuleSpec, st: RuleState, view: View) -> list[Raw]:
    """Raise where the value meets the condition, clear beyond ``clear``; late readings count too."""
    base = _base(spec)

    def detail(r: int, up: bool) -> dict[str, Any]:
        return {**base, "late": True} if view.late[r] else dict(base)

    raising = spec.compare(view.v, spec.threshold)
    return _emit(st, view, raising, lambda: ~spec.compare(view.v, spec.clear), detail)


def duration(spec: RuleSpec, st: RuleState, view: View) -> list[Raw]:
    """Raise once every reading for ``minutes`` of event time met the condition (a run of readings)."""
    cond = spec.compare(view.v, spec.threshold)
    stored = st.arrays["run_start"][view.dev]
    carried = ~np.isnan(stored)
    since = np.full(len(view), np.nan)
    if cond.any() or carried.any():
        origin = run_origin(cond, view.start, carried)
        since = np.where(cond, np.where(origin >= 0, view.t[origin], stored), np.nan)
        end = ends(view.start)
        st.arrays["run_start"][view.dev[end]] = since[end]
    held = cond & (view.t - since >= spec.minutes_s)
    base = {**_base(spec), "minutes": spec.minutes}

    def detail(r: int, up: bool) -> dict[str, Any]:
        return {**base, "held_since": float(since[r])} if up else dict(base)

    return _emit(st, view, held, lambda: ~spec.compare(view.v, spec.clear), detail)


def repeat(spec: RuleSpec, st: RuleState, view: View) -> list[Raw]:
    """Raise at the ``count``-th reading in a row that met the condition."""
    cond = spec.compare(view.v, spec.threshold)
    counts = st.arrays["run_count"]
    stored = counts[view.dev].astype(np.int64)
    carried = stored > 0
    reached = cond
    if cond.any() or carried.any():
        origin = run_origin(cond, view.start, carried)
        pos = np.arange(len(view))
        length = np.where(origin >= 0, pos - origin + 1, pos - first_row(view.start) + 1 + stored)
        length = np.where(cond, length, 0)
        end = ends(view.start)
        counts[view.dev[end]] = np.minimum(length[end], spec.count or 1)  # the run only needs to reach count
        reached = length >= (spec.count or 1)
    base = {**_base(spec), "count": spec.count}
    return _emit(st, view, reached, lambda: ~spec.compare(view.v, spec.clear), lambda r, up: dict(base))


def rate(spec: RuleSpec, st: RuleState, view: View) -> list[Raw]:
    """Rate of change per minute from the previous applied reading; a reading at the same event time as its
    predecessor has no rate and holds the alarm as it is."""
    dt = view.t - view.prev_t
    valid = dt > 0
    per_min = np.full(len(view), np.nan)
    np.divide(view.v - view.prev_v, dt, out=per_min, where=valid)
    per_min *= 60.0
    base = _base(spec)

    def detail(r: int, up: bool) -> dict[str, Any]:
        return {**base, "rate_per_min": float(per_min[r])}

    raising = valid & spec.compare(per_min, spec.threshold)
    return _emit(st, view, raising, lambda: valid & ~spec.compare(per_min, spec.clear), detail)


def forecast(spec: RuleSpec, st: RuleState, view: View) -> list[Raw]:
    """Project the value ``horizon_minutes`` ahead along a two-point trend and compare the projection.

    Time is cut into windows of ``window_minutes`` aligned to the epoch; the trend runs from the last reading
    at least two windows back (window number <= the current one - 2) to the current reading, so it always
    spans more than one window and, for a device reporting steadily, less than three. Only the projection is
    compared: a value already past the threshold whose trend keeps it there stays raised. State per device:
    the last reading of the current window - 1 and - 2 (``r1``, ``r2``); the last reading itself is the
    measurement's."""
    width = (spec.window_minutes or 1.0) * 60.0
    bucket = np.floor(view.t / width)
    first = first_row(view.start)
    end = ends(view.start)
    stored = _Stored(st, view, first, width)
    anchor_t, anchor_v = _last_reading_upto(view, bucket, first, stored, 2, np.arange(len(view)))
    r1_t, r1_v = _last_reading_upto(view, bucket, first, stored, 1, np.flatnonzero(end))
    dev_end = view.dev[end]
    st.arrays["r1_t"][dev_end], st.arrays["r1_v"][dev_end] = r1_t, r1_v
    st.arrays["r2_t"][dev_end], st.arrays["r2_v"][dev_end] = anchor_t[end], anchor_v[end]
    has = ~np.isnan(anchor_t)
    slope = (view.v - anchor_v) / (view.t - anchor_t) * 60.0
    projected = view.v + slope * (spec.horizon_minutes or 0.0)
    base = {**_base(spec), "horizon_minutes": spec.horizon_minutes, "window_minutes": spec.window_minutes}

    def detail(r: int, up: bool) -> dict[str, Any]:
        return {**base, "slope_per_min": float(slope[r]), "projected": float(projected[r])}

    raising = has & spec.compare(projected, spec.threshold)
    return _emit(st, view, raising, lambda: has & ~spec.compare(projected, spec.clear), detail)


class _Stored:
    """A forecast's stored readings, per row: the device's last reading before the batch (r0) and r1, r2."""

    def __init__(self, st: RuleState, view: View, first: Ints, width: float) -> None:
        self.t = (view.prev_t[first], st.arrays["r1_t"][view.dev], st.arrays["r2_t"][view.dev])
        self.v = (view.prev_v[first], st.arrays["r1_v"][view.dev], st.arrays["r2_v"][view.dev])
        self.bucket = np.floor(self.t[0] / width)


def _last_reading_upto(
    view: View, bucket: Floats, first: Ints, stored: _Stored, back: int, rows: Ints
) -> tuple[Floats, Floats]:
    """For ``rows``, the last applied reading whose window number is <= the row's - ``back``: from the
    batch when one is there, else from the stored r0/r1/r2 (new readings never have a lower window number
    than r0, so the wanted window is r0's, r0's - 1 or r0's - 2)."""
    segment = np.cumsum(view.start) - 1
    low = bucket.min() - 2
    span = int(bucket.max() - low) + 1
    # One sorted integer key over all segments: segment number, then window number within it.
    key = segment * span + (bucket - low).astype(np.int64)
    found = np.searchsorted(key, key[rows] - back, side="right") - 1
    in_batch = found >= first[rows]
    wanted = bucket[rows] - back
    r0_bucket = stored.bucket[rows]
    pick = [wanted >= r0_bucket, wanted == r0_bucket - 1, wanted == r0_bucket - 2]
    out_t: list[npt.NDArray[np.float64]] = []
    for batch_values, stored_values in ((view.t, stored.t), (view.v, stored.v)):
        older = np.select(pick, [s[rows] for s in stored_values], default=np.nan)
        out_t.append(np.where(in_batch, batch_values[found], older))
    return out_t[0], out_t[1]


def absence(
    spec: RuleSpec, st: RuleState, view: View, watermark: float, lateness: float, since: float = -np.inf
) -> list[Raw]:
    """Silences inside the batch: a reading that comes after the watermark (the batch's start watermark, or
    the reading's own time less the lateness) has passed the previous reading + ``minutes`` closes a silence
    that was an absence: raised at previous + minutes, cleared at the reading. A device raised before the
    batch clears at its first in-order reading."""
    limit = spec.minutes_s
    was_raised = st.active[view.dev] & view.start
    gap = np.maximum(watermark, view.t - lateness) > np.maximum(view.prev_t, since) + limit
    end = ends(view.start)
    st.active[view.dev[end]] = False
    st.bound = min(st.bound, float((view.t[end] + limit).min()))
    out: list[Raw] = []
    for r in np.flatnonzero(was_raised | gap).tolist():
        last, dev, t = float(view.prev_t[r]), int(view.dev[r]), float(view.t[r])
        detail = {"minutes": spec.minutes, "last_seen": last}
        if not was_raised[r]:
            out.append((t, last + limit, dev, "raise", None, detail))
        out.append((t, t, dev, "clear", None, dict(detail)))
    return out


def sweep_absence(
    spec: RuleSpec, st: RuleState, last_ts: Floats, applies: Bools | None, watermark: float
) -> list[Raw]:
    """Raise every applicable device whose last reading + ``minutes`` the watermark has passed.

    ``st.bound`` (a lower bound of the pending deadlines) skips the scan of all devices until a deadline can
    have passed; the scan then sets it exactly."""
    if watermark <= st.bound:
        return []
    limit = spec.minutes_s
    deadline = last_ts + limit
    active = st.active[: len(last_ts)]
    due = (deadline < watermark) & ~active
    if applies is not None:
        due &= applies
    rows = np.flatnonzero(due)
    active[rows] = True
    waiting = ~active & ~np.isnan(deadline)
    if applies is not None:
        waiting &= applies
    st.bound = float(deadline[waiting].min()) if waiting.any() else np.inf
    return [
        (
            np.inf,
            float(deadline[r]),
            r,
            "raise",
            None,
            {"minutes": spec.minutes, "last_seen": float(last_ts[r])},
        )
        for r in rows.tolist()
    ]


_SEQUENTIAL: dict[str, Callable[[RuleSpec, RuleState, View], list[Raw]]] = {
    "duration": duration,
    "repeat": repeat,
    "rate": rate,
    "forecast": forecast,
}
