"""The engine's memory: the device registry and, per rule, one flat array per state field indexed by device.

Arrays grow by half again when devices are added, so indices stay stable and adding devices one call at a
time costs amortised O(1) per device. Bytes per device:

=========================  =====  ===============================================================
what                       bytes  held
=========================  =====  ===============================================================
the device                 8      type and group codes (its id string and index entry: ~100 more)
per watched measurement    16     last applied event time and value (rate, absence, forecast use them)
threshold, rate, absence   1      raised or not
repeat                     5      raised, length of the current run
duration                   9      raised, start of the current run
forecast                   33     raised, last readings of the two windows before the latest
composite                  0      per group with recent part alarms, in dicts
=========================  =====  ===============================================================

So 1,000,000 electrical-fire monitors under four rules on two measurements (threshold, duration,
threshold, rate) keep 52 MB of arrays, and about 150 MB with their ids.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

# kind: (field, dtype, value before any reading)
FIELDS: dict[str, tuple[tuple[str, Any, Any], ...]] = {
    "threshold": (("active", np.bool_, False),),
    "duration": (("active", np.bool_, False), ("run_start", np.float64, np.nan)),
    "repeat": (("active", np.bool_, False), ("run_count", np.int32, 0)),
    "rate": (("active", np.bool_, False),),
    "absence": (("active", np.bool_, False),),
    # The last readings of the two windows before the latest reading's window (see kinds.forecast).
    "forecast": (
        ("active", np.bool_, False),
        ("r1_t", np.float64, np.nan),
        ("r1_v", np.float64, np.nan),
        ("r2_t", np.float64, np.nan),
        ("r2_v", np.float64, np.nan),
    ),
    "composite": (),  # kept per group in dicts: groups with a recent part alarm are few
}
MEASUREMENT_BYTES = 16  # per device and watched measurement: last applied event time and value
REGISTRY_BYTES = 8  # per device: type and group codes


def bytes_per_device(kind: str) -> int:
    """Bytes of state a rule of this kind keeps per device."""
    return sum(np.dtype(dtype).itemsize for _, dtype, _ in FIELDS[kind])


def grown(array: npt.NDArray[Any], capacity: int, fill: Any) -> npt.NDArray[Any]:
    """``array`` lengthened to ``capacity`` along its last axis, new places set to ``fill``."""
    shape = (*array.shape[:-1], capacity)
    out = np.full(shape, fill, dtype=array.dtype)
    out[..., : array.shape[-1]] = array
    return out


class RuleState:
    """The state of one rule over all devices (or, for a composite rule, over groups)."""

    def __init__(self, spec: Any, capacity: int) -> None:
        self.spec = spec
        self.arrays: dict[str, npt.NDArray[Any]] = {
            name: np.full(capacity, fill, dtype=dtype) for name, dtype, fill in FIELDS[spec.kind]
        }
        # Absence: no deadline (last reading + minutes) of an unraised device lies below this; -inf = unknown.
        self.bound = -math.inf
        # Composite, by group code: the latest raise of each part, (event time, device index) ...
        self.last_raise: dict[int, dict[str, tuple[float, int]]] = {}
        # ... the groups where the composite alarm is raised, and the part alarms open in each group.
        self.raised: set[int] = set()
        self.open_parts: dict[int, int] = {}

    @property
    def active(self) -> npt.NDArray[np.bool_]:
        return self.arrays["active"]

    def grow(self, capacity: int) -> None:
        for name, _, fill in FIELDS[self.spec.kind]:
            self.arrays[name] = grown(self.arrays[name], capacity, fill)

    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays.values())


class Registry:
    """Devices by stable index, with their type and group (building) as small integer codes (-1: none)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.index: dict[str, int] = {}
        self.type_names: list[str] = []
        self.group_names: list[str] = []
        self.type_codes: dict[str, int] = {}
        self.group_codes: dict[str, int] = {}
        self.dev_type = np.empty(0, dtype=np.int32)
        self.dev_group = np.empty(0, dtype=np.int32)
        self.id_str_bytes = 0  # the id strings themselves, counted as they come

    @property
    def n(self) -> int:
        return len(self.ids)

    def nbytes(self) -> int:
        """Codes, ids and the id index (the index and list by their own size, not their items twice)."""
        tables = sys.getsizeof(self.ids) + sys.getsizeof(self.index)
        return self.dev_type.nbytes + self.dev_group.nbytes + self.id_str_bytes + tables

    @property
    def capacity(self) -> int:
        return len(self.dev_type)

    def set(self, ids: Sequence[str], types: Sequence[str | None], groups: Sequence[str | None]) -> None:
        """All devices, the known ones first in their order; types and groups of known ones may change."""
        if not len(ids) == len(types) == len(groups):
            raise ValueError("device_ids, types and groups must have the same length")
        known = self.n
        if len(ids) < known or list(ids[:known]) != self.ids:
            raise ValueError(
                "set_devices must list the known devices first, in their order (indices are stable)"
            )
        new = list(ids[known:])
        if not all(issubclass(kind, str) for kind in set(map(type, new))):
            raise ValueError("device ids must be strings")
        index = dict(zip(new, range(known, known + len(new)), strict=True))
        if len(index) != len(new) or not self.index.keys().isdisjoint(index):
            raise ValueError("device ids must be unique")
        if len(ids) > self.capacity:
            capacity = max(len(ids), self.capacity * 3 // 2)
            self.dev_type = grown(self.dev_type, capacity, -1)
            self.dev_group = grown(self.dev_group, capacity, -1)
        self.dev_type[: len(ids)] = _codes(types, self.type_codes, self.type_names)
        self.dev_group[: len(ids)] = _codes(groups, self.group_codes, self.group_names)
        self.ids.extend(new)
        self.index.update(index)
        self.id_str_bytes += sum(map(sys.getsizeof, new))

    def type_code(self, name: str | None) -> int:
        return -1 if name is None else self.type_codes.get(name, -2)  # -2 matches no device

    def group_name(self, code: int) -> str | None:
        return None if code < 0 else self.group_names[code]


def _codes(names: Sequence[str | None], codes: dict[str, int], table: list[str]) -> npt.NDArray[np.int32]:
    for name in set(names):
        if name is not None and name not in codes:
            if not isinstance(name, str):
                raise ValueError(f"device types and groups are strings or None, not {name!r}")
            codes[name] = len(table)
            table.append(name)
    lookup: dict[str | None, int] = {None: -1}
    lookup.update(codes)
    return np.fromiter(map(lookup.__getitem__, names), dtype=np.int32, count=len(names))
