"""A batch of readings made ready for the rules: checked, sorted by (device, measurement, event time),
split into late and in-order readings against the stored last event time, and cut into one view per
measurement.

Sorting makes the order of readings inside a batch irrelevant. Inside one device's segment the late readings
(older than the last applied one) sort before the in-order ones, so the in-order readings of a segment are
its tail, and each in-order reading's predecessor is the row before it or, for the first, the stored one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .results import BAD_TIMESTAMP, MAX_ABS_TS, NOT_A_NUMBER, TOO_LATE, UNKNOWN_DEVICE, UNKNOWN_MEASUREMENT
from .scan import Bools, Floats, Ints, shift, starts


@dataclass
class View:
    """Rows of one measurement, sorted by device then event time. ``prev_t``/``prev_v`` is the reading
    applied just before each row (NaN when the device has none); only meaningful in an in-order view."""

    dev: Ints
    t: Floats
    v: Floats
    start: Bools
    late: Bools
    prev_t: Floats
    prev_v: Floats

    def __len__(self) -> int:
        return len(self.dev)

    def take(self, keep: Bools) -> View:
        """The rows of whole devices picked by ``keep`` (segment starts stay valid)."""
        return View(*(getattr(self, name)[keep] for name in self.__dataclass_fields__))


@dataclass
class Prepared:
    """A batch ready for the rules: per watched measurement slot, all accepted rows and the in-order ones."""

    views: dict[int, tuple[View, View]]
    rejected: list[tuple[int, str]]
    late: int
    max_ts: float  # of the accepted readings; -inf when none


def check(
    dev: Ints, code: Ints, values: Floats, ts: Floats, n_devices: int, n_codes: int
) -> tuple[Bools, list[tuple[int, str]]]:
    """Readings fit to evaluate, and the reasons of the others (first failing check wins)."""
    ok = (dev >= 0) & (dev < n_devices) & (code >= 0) & (code < n_codes)
    ok &= np.isfinite(values) & (np.abs(ts) <= MAX_ABS_TS)
    if ok.all():
        return ok, []
    reasons: list[tuple[int, str]] = []
    for i in np.flatnonzero(~ok).tolist():
        if not 0 <= dev[i] < n_devices:
            reasons.append((i, UNKNOWN_DEVICE))
        elif not 0 <= code[i] < n_codes:
            reasons.append((i, UNKNOWN_MEASUREMENT))
        elif not (np.isfinite(values[i]) and np.isfinite(ts[i])):
            reasons.append((i, NOT_A_NUMBER))
        else:
            reasons.append((i, BAD_TIMESTAMP))
    return ok, reasons


def prepare(
    dev: Ints,
    slot: Ints,
    values: Floats,
    ts: Floats,
    positions: Ints,
    last_ts: npt.NDArray[np.float64],
    last_val: npt.NDArray[np.float64],
    lateness: float,
) -> Prepared:
    """Sort, classify against the stored state (``last_ts``/``last_val``: slot x device) and cut per slot.
    ``positions`` are the rows' places in the caller's batch, for rejections."""
    n, n_slots = len(dev), last_ts.shape[0]
    key = dev * n_slots + slot
    if n and (int(key.max()) + 1) * n < 2**62:
        # Arrival position as the lowest digits makes keys unique, so a plain value sort (about twice as
        # fast as a stable argsort) gives the stable order.
        order = np.sort(key * n + np.arange(n)) % n
    else:
        order = np.argsort(key, kind="stable")
    t, sorted_key = ts[order], key[order]
    if ((sorted_key[1:] == sorted_key[:-1]) & (t[1:] < t[:-1])).any():
        # Only needed when a device's readings came out of event-time order.
        order = np.lexsort((ts, key))
        t = ts[order]
    dev, slot, v, pos = dev[order], slot[order], values[order], positions[order]
    stored_t = last_ts[slot, dev]
    late = t < stored_t
    rejected: list[tuple[int, str]] = []
    if late.any():
        too_late = t < stored_t - lateness
        if too_late.any():
            rejected = [(p, TOO_LATE) for p in pos[too_late].tolist()]
            keep = ~too_late
            dev, slot, pos = dev[keep], slot[keep], pos[keep]
            t, v, stored_t, late = t[keep], v[keep], stored_t[keep], late[keep]
    stored_v = last_val[slot, dev]
    views: dict[int, tuple[View, View]] = {}
    for s in range(n_slots):
        rows = slice(None) if n_slots == 1 else np.flatnonzero(slot == s)
        d = dev[rows]
        if len(d):
            views[s] = _views(d, t[rows], v[rows], late[rows], stored_t[rows], stored_v[rows])
    return Prepared(views, rejected, int(late.sum()), float(t.max()) if len(t) else -np.inf)


def _views(
    dev: Ints, t: Floats, v: Floats, late: Bools, stored_t: Floats, stored_v: Floats
) -> tuple[View, View]:
    start = starts(dev)
    if late.any():
        every = View(dev, t, v, start, late, stored_t, stored_v)
        keep = ~late
        dev, t, v, late, stored_t, stored_v = (
            dev[keep],
            t[keep],
            v[keep],
            late[keep],
            stored_t[keep],
            stored_v[keep],
        )
        start = starts(dev)
        ordered = View(dev, t, v, start, late, shift(t, start, stored_t), shift(v, start, stored_v))
        return every, ordered
    ordered = View(dev, t, v, start, late, shift(t, start, stored_t), shift(v, start, stored_v))
    return ordered, ordered
