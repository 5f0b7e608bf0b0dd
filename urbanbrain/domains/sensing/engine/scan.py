"""Scans over a batch sorted by device and event time, where each device's readings form one contiguous
segment: the sequential state of a rule (raised or not, a run of readings) becomes a forward fill inside
segments, seeded by the state stored before the batch, so a batch costs a fixed number of numpy passes
however many readings one device has in it.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

Bools = npt.NDArray[np.bool_]
Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]

RAISE, CLEAR, HOLD = 1, 0, -1  # what one reading says about an alarm; HOLD keeps the state as it is


def starts(dev: Ints) -> Bools:
    """True at the first row of each device."""
    out = np.empty(len(dev), dtype=np.bool_)
    out[:1] = True
    np.not_equal(dev[1:], dev[:-1], out=out[1:])
    return out


def ends(start: Bools) -> Bools:
    """True at the last row of each device."""
    out = np.empty_like(start)
    out[:-1] = start[1:]
    out[-1:] = True
    return out


def first_row(start: Bools) -> Ints:
    """For each row, the index of its segment's first row."""
    pos = np.arange(len(start))
    return np.maximum.accumulate(np.where(start, pos, 0))


def shift(values: npt.NDArray[Any], start: Bools, before: npt.NDArray[Any]) -> npt.NDArray[Any]:
    """Each row's predecessor in its segment; for a first row, ``before`` (the stored state)."""
    out = np.empty_like(values)
    out[1:] = values[:-1]
    out[start] = before[start]
    return out


def settle(decision: npt.NDArray[np.int8], start: Bools, initial: Bools) -> tuple[Bools, Bools]:
    """Hysteresis as a forward fill: after each row an alarm is in the state of the latest RAISE or CLEAR of
    its segment, or in ``initial`` (stored before the batch) when no row decided yet.

    Returns (state after each row, state before each row); a transition is where they differ."""
    pos = np.arange(len(decision))
    latest = np.maximum.accumulate(np.where(decision != HOLD, pos, -1))
    decided = latest >= first_row(start)
    state = np.where(decided, decision[latest] == RAISE, initial)
    return state, shift(state, start, initial)


def run_origin(cond: Bools, start: Bools, carried: Bools) -> Ints:
    """For each row, the row where its current run of ``cond`` began, or -1 when the run began before the
    batch (``carried``: the device was in a run when the batch started). Meaningful where ``cond`` holds."""
    begins = cond & ~shift(cond, start, carried)
    pos = np.arange(len(cond))
    latest = np.maximum.accumulate(np.where(begins, pos, -1))
    return np.where(latest >= first_row(start), latest, -1)
