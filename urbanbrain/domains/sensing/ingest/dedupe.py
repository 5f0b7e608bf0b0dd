"""Repeats: a message a device sent is taken once, however often and however late it is sent again.

What is kept, per device: the event time of its newest message taken, and the ids of its messages within
``window`` seconds of that time (the allowed lateness). A message then is

* a **repeat** (dropped, counted) when its id is among those kept;
* **too late** (refused, dead-lettered as ``too_late``) when it is more than ``window`` seconds older than its
  device's newest message: whether it was taken before or not, it would be older than the rules allow;
* **new** otherwise (its id is remembered).

So no message is ever stored twice, for any window of time, and what must be remembered grows with the
readings a device sends within the lateness, not with the traffic: ids of messages more than ``window``
behind their device's newest are forgotten in chunks, oldest first, once more than ``keep`` ids are held.
A device that stops sending keeps its last window of ids until it sends again, however long that is.
"""

from __future__ import annotations

import itertools
import math
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import msgspec
import numpy as np

SEPARATOR = "\x1f"  # between device and message id in a key: a character no id is expected to hold
CHUNK = 50_000  # ids per chunk: the unit forgotten at once (a few ms of the interpreter lock)
ENCODE_CHUNK = 10_000  # ids per encoded piece of a checkpoint (about 1 ms of the interpreter lock each)


class Verdict(Enum):
    NEW = "new"
    REPEAT = "repeat"
    TOO_LATE = "too_late"


@dataclass
class _Chunk:
    keys: list[str]
    ts: Any  # float64 array, parallel to keys


class Seen:
    def __init__(self, window_s: float = 60.0, keep: int = 1_000_000, chunk: int = CHUNK) -> None:
        self.window, self.keep, self.chunk = window_s, keep, chunk
        self.newest: dict[str, float] = {}  # device -> event time of its newest message taken
        self._keys: set[str] = set()
        self._sealed: deque[_Chunk] = deque()
        self._cur_keys: list[str] = []
        self._cur_ts: list[float] = []
        self._forgotten: set[str] = set()  # in a chunk still, but not taken after all (see forget)

    @staticmethod
    def key(device: str, message_id: str) -> str:
        return f"{device}{SEPARATOR}{message_id}"

    # -- one message --------------------------------------------------------------------------------

    def check(self, device: str, message_id: str, ts: float) -> Verdict:
        """Whether a message is new (and then remembered), a repeat, or too late."""
        k = f"{device}{SEPARATOR}{message_id}"
        if k in self._keys:
            return Verdict.REPEAT
        newest = self.newest.get(device, -math.inf)
        if ts < newest - self.window:
            return Verdict.TOO_LATE
        self._add([k], [ts])
        if ts > newest:
            self.newest[device] = ts
        return Verdict.NEW

    def remember(self, device: str, message_id: str, ts: float) -> Verdict:
        """Replay: a message in the journal was taken once already; remember it, whatever was known."""
        k = f"{device}{SEPARATOR}{message_id}"
        if k not in self._keys:
            self._add([k], [ts])
        if ts > self.newest.get(device, -math.inf):
            self.newest[device] = ts
        return Verdict.NEW

    # -- a whole body -------------------------------------------------------------------------------

    def check_all(self, devices: Sequence[str], message_ids: Sequence[str], ts: Sequence[float]) -> bool:
        """:meth:`check` for a whole body, with set and array operations: True, and all remembered, when
        every message is new (none repeated within the body, none too late); False, and nothing remembered,
        otherwise (the caller then asks message by message to learn which)."""
        keys = list(map(SEPARATOR.join, zip(devices, message_ids, strict=True)))
        unique = set(keys)
        if len(unique) != len(keys) or not unique.isdisjoint(self._keys):
            return False
        newest = np.fromiter(
            map(self.newest.get, devices, itertools.repeat(-math.inf)), np.float64, len(keys)
        )
        times = np.asarray(ts, dtype=np.float64)
        if not self._none_too_late(devices, times, newest):
            return False
        self._add(keys, times.tolist())
        self._raise_newest(devices, times.tolist())
        return True

    def _none_too_late(self, devices: Sequence[str], times: Any, newest: Any) -> bool:
        """Whether no message of the body is too late, measured as the loop measures it: against its
        device's newest message before the body *and* the device's earlier messages in it. A sufficient
        test (each device's oldest in the body within the window of its newest, before or in the body); a
        body that fails it goes to the loop, which is exact."""
        if (times < newest - self.window).any():
            return False
        if len(times) == 0 or times.max() - times.min() <= self.window:
            return True
        _, first, group = np.unique(np.asarray(devices, dtype=object), return_index=True, return_inverse=True)
        top = newest[first].copy()
        np.maximum.at(top, group, times)
        low = np.full(len(first), np.inf)
        np.minimum.at(low, group, times)
        return bool((low >= top - self.window).all())

    def remember_all(self, devices: Sequence[str], message_ids: Sequence[str], ts: Sequence[float]) -> bool:
        """:meth:`remember` for many messages at once."""
        keys = list(map(SEPARATOR.join, zip(devices, message_ids, strict=True)))
        times: list[float] = np.asarray(ts, dtype=np.float64).tolist()  # plain floats, for checkpoints
        fresh = [(k, t) for k, t in zip(keys, times, strict=True) if k not in self._keys]
        if fresh:
            self._add([k for k, _ in fresh], [t for _, t in fresh])
        self._raise_newest(devices, times)
        return True

    def _raise_newest(self, devices: Sequence[str], times: list[float]) -> None:
        newest, get, inf = self.newest, self.newest.get, -math.inf
        for device, t in zip(devices, times, strict=True):
            if t > get(device, inf):
                newest[device] = t

    # -- memory -------------------------------------------------------------------------------------

    def _add(self, keys: list[str], ts: list[float]) -> None:
        if self._forgotten:
            self._forgotten.difference_update(keys)
        self._keys.update(keys)
        self._cur_keys.extend(keys)
        self._cur_ts.extend(ts)
        if len(self._cur_keys) >= self.chunk:
            self._sealed.append(_Chunk(self._cur_keys, np.array(self._cur_ts, dtype=np.float64)))
            self._cur_keys, self._cur_ts = [], []
            self._forget_old()

    def _forget_old(self) -> None:
        """Forget, oldest chunk first, the ids more than ``window`` behind their device's newest message, while
        more than ``keep`` are held. A chunk whose ids are mostly still needed stops it: they are what makes
        repeats exact, so the memory grows instead (with the devices' traffic within the lateness)."""
        while len(self._keys) > self.keep and self._sealed:
            oldest = self._sealed[0]
            devices = [k.partition(SEPARATOR)[0] for k in oldest.keys]
            newest = np.fromiter(
                map(self.newest.get, devices, itertools.repeat(math.inf)), np.float64, len(devices)
            )
            needed = oldest.ts >= newest - self.window
            if needed.mean() > 0.5:
                return
            self._sealed.popleft()
            self._keys.difference_update(itertools.compress(oldest.keys, ~needed))
            for i in np.flatnonzero(needed).tolist():  # few: kept with the newest
                self._cur_keys.append(oldest.keys[i])
                self._cur_ts.append(float(oldest.ts[i]))

    def forget(self, pairs: list[tuple[str, str]]) -> None:
        """Messages that were not taken after all (the journal write failed): a resend must be taken. Their
        entries stay in the chunks, marked forgotten, so a checkpoint does not save them."""
        keys = {self.key(d, m) for d, m in pairs}
        self._keys.difference_update(keys)
        self._forgotten |= keys

    def __len__(self) -> int:
        return len(self._keys)

    # -- checkpoints --------------------------------------------------------------------------------

    def snapshot(self, excluding: Sequence[tuple[str, str]] = ()) -> tuple[Any, ...]:
        """What :meth:`encode` writes, taken quickly on the writer thread (sealed chunks are never changed in
        place, so they are shared, not copied). ``excluding``: messages taken but not yet in the journal;
        after a crash their resend must be taken."""
        skip = {self.key(d, m) for d, m in excluding} | self._forgotten
        return (dict(self.newest), list(self._sealed), (list(self._cur_keys), list(self._cur_ts)), skip)

    @staticmethod
    def encode(snapshot: tuple[Any, ...]) -> bytes:
        """The state in pieces of ``ENCODE_CHUNK`` ids, other threads running between pieces: encoded in one
        call, a million ids held the interpreter lock long enough to delay the alarms arriving meanwhile."""
        newest, sealed, (cur_keys, cur_ts), skip = snapshot
        pieces: list[bytes] = []
        for keys, ts in [*((c.keys, c.ts.tolist()) for c in sealed), (cur_keys, cur_ts)]:
            for start in range(0, len(keys), ENCODE_CHUNK):
                part_keys, part_ts = keys[start : start + ENCODE_CHUNK], ts[start : start + ENCODE_CHUNK]
                if skip:
                    kept = [(k, t) for k, t in zip(part_keys, part_ts, strict=True) if k not in skip]
                    part_keys, part_ts = [k for k, _ in kept], [t for _, t in kept]
                pieces.append(_encode([part_keys, part_ts]))
                time.sleep(0)  # let the writer and the doors have the lock
        return _encode({"version": 2, "newest": newest, "pieces": pieces})

    @classmethod
    def load(cls, blob: bytes, window_s: float = 60.0, keep: int = 1_000_000) -> Seen:
        seen = cls(window_s, keep)
        saved = msgspec.msgpack.decode(blob)
        if isinstance(saved, dict) and saved.get("version") == 2:
            seen.newest = dict(saved["newest"])
            for piece in saved["pieces"]:
                keys, ts = _decode_piece(piece)
                if keys:
                    seen._add(keys, ts)
            return seen
        # A state written before times were kept: the ids, without their times. They guard against repeats
        # until the first chunk is forgotten (their time is unknown: the oldest possible).
        if isinstance(saved, dict):
            old = [k for gen in saved["chunked"] for chunk in gen for k in _decode_ids(chunk)]
        else:
            old = [k for gen in saved for k in gen]
        if old:
            seen._add(old, [-math.inf] * len(old))
        return seen


_encode = msgspec.msgpack.encode
_decode_ids = msgspec.msgpack.Decoder(list[str]).decode
_decode_piece = msgspec.msgpack.Decoder(tuple[list[str], list[float]]).decode
