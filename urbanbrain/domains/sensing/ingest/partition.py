"""Partitions of the readings for scaling out: which worker process takes which devices.

Stateful rules need every reading of a device in one place, and composite rules (smoke AND heat in the same
building) every reading of a building. So a reading's partition follows its device's building; a device
with no building follows its partition group (devices judged together elsewhere, such as a crowd zone's
inputs), and a device with neither the device itself; by a hash that does not change between processes or
restarts. A worker owns a set of partitions; a door sends each reading to the partition of its key.

Shared MQTT subscriptions and NATS queue groups hand each *message* to any one consumer, which would split a
building's readings over workers and miss composite alarms; partitions keep a building whole.
"""

from __future__ import annotations

import zlib

from urbanbrain.core.errors import UrbanBrainError, register_messages

register_messages(
    {
        "sensing.bad_partitions": (
            400,
            "分区设置“{spec}”无效：应为 all、none 或 0 到 {partitions} 减一之间的编号，如 0-3,8。",
            "Partitions “{spec}” are not valid: all, none, or numbers from 0 to {partitions} minus one, "
            "such as 0-3,8.",
        ),
    }
)


def partition_key(device_id: str, building_code: str | None, group: str | None) -> str:
    """What a device's readings are partitioned by: its building, else its partition group, else itself.
    The building comes first: a composite rule needs its building whole, whatever group a device is in."""
    return building_code or group or device_id


def partition_of(key: str, partitions: int) -> int:
    """The partition of a key (:func:`partition_key`: a building code, a group or a device id)."""
    return zlib.crc32(key.encode()) % partitions


def parse_owned(spec: str | None, partitions: int) -> frozenset[int]:
    """``"all"`` (or empty), ``"none"``, or a list like ``"0,2,4-7"``: the partitions a worker takes."""
    text = (spec or "all").strip().lower()
    if text == "all":
        return frozenset(range(partitions))
    if text == "none":
        return frozenset()
    owned: set[int] = set()
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            first, last = int(lo), int(hi or lo)
            if first > last:
                raise ValueError(part)
            owned.update(range(first, last + 1))
    except ValueError:
        raise UrbanBrainError("sensing.bad_partitions", spec=spec, partitions=partitions) from None
    if not owned or max(owned) >= partitions:
        raise UrbanBrainError("sensing.bad_partitions", spec=spec, partitions=partitions)
    return frozenset(owned)


def describe(owned: frozenset[int], partitions: int) -> str:
    """A stable name for a set of partitions (the worker's state directory is named after it)."""
    if len(owned) == partitions:
        return "all"
    if not owned:
        return "none"
    runs: list[str] = []
    ordered = sorted(owned)
    start = prev = ordered[0]
    for p in ordered[1:] + [-2]:
        if p == prev + 1:
            prev = p
            continue
        runs.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = p
    return "_".join(runs)


class Owner:
    """Whether a device is this worker's: the partition of its key (:func:`partition_key`) is owned."""

    def __init__(self, owned: frozenset[int], partitions: int) -> None:
        self.owned, self.partitions = owned, partitions

    def __call__(self, key: str) -> bool:
        return partition_of(key, self.partitions) in self.owned
