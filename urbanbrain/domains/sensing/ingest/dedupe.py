"""Repeats: a message a device sent is taken once, however often and however late it is sent again.

What is kept, per device: the event time of its newest message taken, and the ids of its messages within
``window`` seconds of that time (the allowed lateness). A message then is

* a **repeat** (dropped, counted) when its id is among those kept;
* **too late** (refused, dead-lettered as ``too_late``) when it is more than ``window`` seconds older than its
  device's newest message: whether it was taken before or not, it would be older than the rules allow;
* **new** otherwise (its id is remembered).

So no message is ever stored twice, for any span of time, and what must be remembered grows with the
messages devices send within the lateness, not with the traffic: ids more than ``window`` behind their
device's newest are forgotten whenever the recent ids are merged into the sorted store. A device that stops
sending keeps its last window of ids until it sends again, however long that is.

Memory. An id is held as a 64-bit hash (XXH3) of (device, message id) with its event time and a device number:
20 bytes in numpy arrays, against about 145 bytes as a Python string in a set (measured), so the ids of a
minute of a district's peak traffic fit in the budget. Two different messages of the same device within
the lateness would have to share a hash to be taken for one another: about one chance in 2^64 / n, with n
the ids held (10^-12 for ten million).
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from enum import Enum
from typing import Any

import msgspec
import numpy as np
import numpy.typing as npt
import xxhash

SEPARATOR = "\x1f"  # between device and message id in a key: a character no id is expected to hold
# Recent ids are held in a Python set until 262,144 of them, or a sixteenth of those held if more, are merged
# into the sorted arrays. A merge copies the arrays: merging every 262,144 into ten million would copy each
# id ~40 times (measured: half the cost of a check of 100 messages at 5 million held); a sixteenth keeps the
# recent set (~80 bytes an id) to ~5 bytes a held id.
CHUNK = 262_144
MIN_FILTER_BITS_LOG2 = 20  # the filter in front of the sorted arrays: at least 2^20 bits (128 KiB)
PIECE = 1 << 20  # ids per encoded piece of a checkpoint (a short hold of the interpreter lock each)

U64 = npt.NDArray[np.uint64]


class Verdict(Enum):
    NEW = "new"
    REPEAT = "repeat"
    TOO_LATE = "too_late"


# -- the hash: XXH3, 64 bits, of "device<US>message id" in UTF-8 -----------------------------------------

_xxh3 = xxhash.xxh3_64_intdigest


def key_hash(device: str, message_id: str) -> int:
    """The 64-bit hash of one message's key (~0.2 µs: C code, one call)."""
    return _xxh3(f"{device}{SEPARATOR}{message_id}".encode("utf-8", "surrogatepass"))


def key_hashes(devices: Sequence[str], message_ids: Sequence[str]) -> U64:
    """:func:`key_hash` of many keys: the same ~0.2 µs a key for a body of 100 or of 10,000 (a column-wise
    hash in numpy costs 0.7 µs a key at 100, its loops' overhead spread over few ids)."""
    return np.fromiter(
        (
            _xxh3(f"{d}{SEPARATOR}{m}".encode("utf-8", "surrogatepass"))
            for d, m in zip(devices, message_ids, strict=True)
        ),
        np.uint64,
        len(message_ids),
    )


class _Filter:
    """One bit per slot, set for every hash in the sorted arrays (a superset: ids dropped since it was built
    keep their bits). A hash whose bit is clear is not held, and needs no binary search of the arrays: one
    cache miss, where a binary search of millions of hashes takes ~23 (about 2 µs an id, measured). At 16
    bits a held id, 1 new id in 16 finds its bit set and is searched."""

    def __init__(self, hashes: U64) -> None:
        bits = 1 << max(MIN_FILTER_BITS_LOG2, (16 * len(hashes) - 1).bit_length())
        self.bits, self.mask = bits, bits - 1
        self.array = np.zeros(bits >> 3, np.uint8)
        self.view = memoryview(self.array.data)  # indexing gives Python ints: cheaper for one lookup
        self.added = 0
        self.add(hashes)

    def add(self, hashes: U64) -> None:
        for start in range(0, len(hashes), PIECE):  # in pieces: the temporaries of one piece, not of millions
            slot = hashes[start : start + PIECE] & np.uint64(self.mask)
            bit = np.left_shift(np.uint8(1), (slot & np.uint64(7)).astype(np.uint8))
            np.bitwise_or.at(self.array, slot >> np.uint64(3), bit)
        self.added += len(hashes)

    def may_hold(self, h: int) -> bool:
        slot = h & self.mask
        return bool(self.view[slot >> 3] >> (slot & 7) & 1)

    def may_hold_all(self, hashes: U64) -> npt.NDArray[np.bool_]:
        slot = hashes & np.uint64(self.mask)
        return (self.array[slot >> np.uint64(3)] >> (slot & np.uint64(7)).astype(np.uint8)) & 1 == 1

    def worn(self, held: int) -> bool:
        """Rebuild when more than half its bits are ids no longer held, or it is too small for the held."""
        return self.added > 2 * held or 8 * held > self.bits


class Seen:
    """The ids taken, in two parts: the recent ones in a Python set (with their times and devices in lists),
    the rest in arrays sorted by hash. Every ``chunk`` recent ids are merged into the arrays, and ids that
    no longer matter (more than ``window`` behind their device's newest) are dropped at the merge."""

    def __init__(self, window_s: float = 60.0, chunk: int = CHUNK) -> None:
        self.window, self.chunk = window_s, chunk
        self._code: dict[str, int] = {}  # device -> its number
        self._names: list[str] = []
        self._newest = np.full(1024, -math.inf)  # by device number: event time of its newest message
        self._hash: U64 = np.empty(0, np.uint64)  # sorted
        self._ts: npt.NDArray[np.float64] = np.empty(0)
        self._dev: npt.NDArray[np.int32] = np.empty(0, np.int32)
        self._recent: set[int] = set()
        self._recent_hash: list[int] = []
        self._recent_ts: list[float] = []
        self._recent_dev: list[int] = []
        self._recent_parts: list[tuple[U64, npt.NDArray[np.float64], npt.NDArray[np.int32]]] = []
        self._dropped: set[int] = set()  # in the arrays, but not taken after all (see forget)
        self._filter = _Filter(self._hash)

    @property
    def newest(self) -> dict[str, float]:
        """Device -> event time of its newest message taken."""
        values = self._newest[: len(self._names)].tolist()
        return {n: t for n, t in zip(self._names, values, strict=True) if t != -math.inf}

    def holds(self, device: str, message_id: str) -> bool:
        """Whether this message's id is remembered (tests and tools)."""
        return self._has(self._key(device, message_id)[0])

    # -- one message --------------------------------------------------------------------------------

    def check(self, device: str, message_id: str, ts: float) -> Verdict:
        """Whether a message is new (and then remembered), a repeat, or too late."""
        h, code = self._key(device, message_id)
        if self._has(h):
            return Verdict.REPEAT
        newest = float(self._newest[code])
        if ts < newest - self.window:
            return Verdict.TOO_LATE
        self._add_one(h, ts, code)
        if ts > newest:
            self._newest[code] = ts
        return Verdict.NEW

    def remember(self, device: str, message_id: str, ts: float) -> Verdict:
        """Replay: a message in the journal was taken once already; remember it, whatever was known."""
        h, code = self._key(device, message_id)
        if not self._has(h):
            self._add_one(h, ts, code)
        if ts > self._newest[code]:
            self._newest[code] = ts
        return Verdict.NEW

    # -- a whole body -------------------------------------------------------------------------------

    def check_all(self, devices: Sequence[str], message_ids: Sequence[str], ts: Sequence[float]) -> bool:
        """:meth:`check` for a whole body, with array and set operations: True, and all remembered, when
        every message is new (none repeated within the body, none too late); False, and nothing remembered,
        otherwise (the caller then asks message by message to learn which)."""
        hashes, codes = self._keys(devices, message_ids)
        body = set(hashes.tolist())
        if len(body) != len(hashes) or not self._recent.isdisjoint(body) or self._in_sorted(hashes):
            return False
        times = np.asarray(ts, dtype=np.float64)
        if not self._none_too_late(codes, times):
            return False
        self._add_many(hashes, times, codes, body)
        np.maximum.at(self._newest, codes, times)
        return True

    def remember_all(self, devices: Sequence[str], message_ids: Sequence[str], ts: Sequence[float]) -> bool:
        """:meth:`remember` for many messages at once."""
        hashes, codes = self._keys(devices, message_ids)
        times = np.asarray(ts, dtype=np.float64)
        _, first = np.unique(hashes, return_index=True)
        fresh = np.sort(first)
        fresh = fresh[~self._held_mask(hashes[fresh])]
        self._add_many(hashes[fresh], times[fresh], codes[fresh], set(hashes[fresh].tolist()))
        np.maximum.at(self._newest, codes, times)
        return True

    def _none_too_late(self, codes: npt.NDArray[np.int64], times: npt.NDArray[np.float64]) -> bool:
        """Whether no message of the body is too late, measured as the loop measures it: against its
        device's newest message before the body *and* the device's earlier messages in it. A sufficient
        test (each device's oldest in the body within the window of its newest, before or in the body); a
        body that fails it goes to the loop, which is exact."""
        newest = self._newest[codes]
        if (times < newest - self.window).any():
            return False
        if len(times) == 0 or times.max() - times.min() <= self.window:
            return True
        devices, group = np.unique(codes, return_inverse=True)
        top = self._newest[devices]
        np.maximum.at(top, group, times)
        low = np.full(len(devices), np.inf)
        np.minimum.at(low, group, times)
        return bool((low >= top - self.window).all())

    # -- what is held -------------------------------------------------------------------------------

    def _has(self, h: int) -> bool:
        if h in self._recent:
            return True
        if not len(self._hash) or not self._filter.may_hold(h):
            return False
        at = int(self._hash.searchsorted(np.uint64(h)))  # the method: half the cost of np.searchsorted
        return at < len(self._hash) and int(self._hash[at]) == h and h not in self._dropped

    def _found_in_sorted(self, hashes: U64) -> npt.NDArray[np.intp]:
        """Positions in ``hashes`` of those in the sorted arrays (forgotten ones included)."""
        if not len(self._hash):
            return np.empty(0, np.intp)
        maybe = np.flatnonzero(self._filter.may_hold_all(hashes))
        if not len(maybe):
            return maybe
        at = np.minimum(self._hash.searchsorted(hashes[maybe]), len(self._hash) - 1)
        return maybe[self._hash[at] == hashes[maybe]]

    def _held_mask(self, hashes: U64) -> npt.NDArray[np.bool_]:
        held = np.zeros(len(hashes), dtype=bool)
        found = self._found_in_sorted(hashes)
        if len(found):
            held[found] = True
            if self._dropped:
                held[found] = [h not in self._dropped for h in hashes[found].tolist()]
        if self._recent:
            held |= np.fromiter(map(self._recent.__contains__, hashes.tolist()), bool, len(hashes))
        return held

    def _in_sorted(self, hashes: U64) -> bool:
        """Whether any of the hashes is in the sorted arrays (and not forgotten)."""
        found = self._found_in_sorted(hashes)
        if not len(found):
            return False
        return not self._dropped or any(h not in self._dropped for h in hashes[found].tolist())

    def _code_of(self, device: str) -> int:
        code = self._code.get(device)
        if code is None:
            code = self._new_code(device)
        return code

    def _codes_of(self, devices: Sequence[str]) -> npt.NDArray[np.int64]:
        codes = np.fromiter(map(self._code.get, devices, itertools.repeat(-1)), np.int64, len(devices))
        if (codes < 0).any():
            for i in np.flatnonzero(codes < 0).tolist():
                codes[i] = self._code_of(devices[i])
        return codes

    def _new_code(self, device: str) -> int:
        code = len(self._names)
        self._code[device] = code
        self._names.append(device)
        if code >= len(self._newest):
            size = len(self._newest) * 2
            self._newest = np.concatenate([self._newest, np.full(size - len(self._newest), -math.inf)])
        return code

    def _key(self, device: str, message_id: str) -> tuple[int, int]:
        """(the key's hash, the device's number)."""
        code = self._code_of(device)
        return key_hash(device, message_id), code

    def _keys(self, devices: Sequence[str], message_ids: Sequence[str]) -> tuple[U64, npt.NDArray[np.int64]]:
        codes = self._codes_of(devices)
        return key_hashes(devices, message_ids), codes

    def _add_one(self, h: int, ts: float, code: int) -> None:
        self._dropped.discard(h)
        self._recent.add(h)
        self._recent_hash.append(h)
        self._recent_ts.append(float(ts))
        self._recent_dev.append(code)
        if len(self._recent) >= max(self.chunk, len(self._hash) // 16):
            self._merge()

    def _add_many(
        self, hashes: U64, times: npt.NDArray[np.float64], codes: npt.NDArray[np.int64], body: set[int]
    ) -> None:
        if self._dropped:
            self._dropped.difference_update(body)
        self._recent |= body
        self._recent_parts.append((hashes, times, codes.astype(np.int32)))
        if len(self._recent) >= max(self.chunk, len(self._hash) // 16):
            self._merge()

    def _recent_arrays(self) -> tuple[U64, npt.NDArray[np.float64], npt.NDArray[np.int32]]:
        """The recent ids as arrays: those added a body at a time, and those one at a time."""
        parts = [
            *self._recent_parts,
            (
                np.array(self._recent_hash, dtype=np.uint64),
                np.array(self._recent_ts, dtype=np.float64),
                np.array(self._recent_dev, dtype=np.int32),
            ),
        ]
        h, ts, dev = (np.concatenate(col) for col in zip(*parts, strict=True))
        return h, ts, dev

    def _merge(self) -> None:
        """The recent ids into the sorted arrays, dropping what no longer matters: ids more than ``window``
        behind their device's newest, and ids forgotten (not taken after all). The held arrays are replaced
        a column at a time (never changed in place: a snapshot may share them), so at most one column is held
        twice: about 9 bytes an id at the peak, not the whole store again and its sort."""
        rh, rts, rdev = self._recent_arrays()
        gone = np.fromiter(self._dropped, np.uint64, len(self._dropped)) if self._dropped else None
        # The recent ids sorted; an id forgotten and taken again is there twice: its last entry counts.
        order = np.argsort(rh, kind="stable")
        rh, rts, rdev = rh[order], rts[order], rdev[order]
        keep_recent = rts >= self._newest[rdev] - self.window
        if len(rh) > 1:
            keep_recent &= np.append(rh[1:] != rh[:-1], True)
        if gone is not None:
            keep_recent &= ~np.isin(rh, gone)
        rh, rts, rdev = rh[keep_recent], rts[keep_recent], rdev[keep_recent]
        keep = self._ts >= self._newest[self._dev] - self.window
        if len(self._hash):
            # Held ids forgotten, and held ids taken again since (their new entry replaces them).
            for found in (gone, rh):
                if found is not None and len(found):
                    at = np.minimum(np.searchsorted(self._hash, found), len(self._hash) - 1)
                    keep[at[self._hash[at] == found]] = False
        if not keep.all():
            self._hash = self._hash[keep]
            self._ts = self._ts[keep]
            self._dev = self._dev[keep]
        del keep
        at = np.searchsorted(self._hash, rh)
        self._hash = np.insert(self._hash, at, rh)
        self._ts = np.insert(self._ts, at, rts)
        self._dev = np.insert(self._dev, at, rdev)
        if self._filter.worn(len(self._hash)):
            self._filter = _Filter(self._hash)
        else:
            self._filter.add(rh)
        self._recent, self._recent_hash, self._recent_ts, self._recent_dev = set(), [], [], []
        self._recent_parts = []
        self._dropped = set()

    def forget(self, pairs: list[tuple[str, str]]) -> None:
        """Messages that were not taken after all (the journal write failed): a resend must be taken."""
        for device, message_id in pairs:
            h, _ = self._key(device, message_id)
            self._recent.discard(h)
            self._dropped.add(h)

    def __len__(self) -> int:
        """How many ids are held."""
        dropped = 0
        if self._dropped and len(self._hash):
            gone = np.fromiter(self._dropped, np.uint64, len(self._dropped))
            at = np.minimum(np.searchsorted(self._hash, gone), len(self._hash) - 1)
            dropped = int((self._hash[at] == gone).sum())
        return len(self._hash) + len(self._recent) - dropped

    # -- checkpoints --------------------------------------------------------------------------------

    def snapshot(self, excluding: Sequence[tuple[str, str]] = ()) -> tuple[Any, ...]:
        """What :meth:`encode` writes, taken quickly on the writer thread (the sorted arrays are never changed
        in place, so they are shared, not copied). ``excluding``: messages taken but not yet in the journal;
        after a crash their resend must be taken."""
        skip = {self._key(d, m)[0] for d, m in excluding} | self._dropped
        n = len(self._names)
        recent = self._recent_arrays()
        return (list(self._names), self._newest[:n].copy(), (self._hash, self._ts, self._dev), recent, skip)

    @staticmethod
    def encode(snapshot: tuple[Any, ...]) -> bytes:
        """The state as raw arrays in pieces of ``PIECE`` ids, other threads running between pieces. The held
        arrays are written as they are (copied only where an id is skipped), the recent ones after them."""
        names, newest, (h, ts, dev), (rh, rts, rdev), skip = snapshot
        if skip:
            gone = np.fromiter(skip, np.uint64, len(skip))
            if len(h):
                at = np.minimum(np.searchsorted(h, gone), len(h) - 1)
                hit = np.unique(at[h[at] == gone])
                if len(hit):
                    h, ts, dev = np.delete(h, hit), np.delete(ts, hit), np.delete(dev, hit)
            kept = ~np.isin(rh, gone)
            rh, rts, rdev = rh[kept], rts[kept], rdev[kept]
        pieces = []
        for hashes, times, devs in ((h, ts, dev), (rh, rts, rdev)):
            for start in range(0, len(hashes), PIECE):
                end = start + PIECE
                pieces.append(
                    (hashes[start:end].tobytes(), times[start:end].tobytes(), devs[start:end].tobytes())
                )
                time.sleep(0)  # let the writer and the doors have the lock
        return _encode({"version": 4, "devices": names, "newest": newest.tobytes(), "pieces": pieces})

    @classmethod
    def load(cls, blob: bytes, window_s: float = 60.0) -> Seen:
        seen = cls(window_s)
        saved = msgspec.msgpack.decode(blob)
        if isinstance(saved, dict) and saved.get("version") == 4:
            for name in saved["devices"]:
                seen._new_code(name)
            n = len(saved["devices"])
            seen._newest[:n] = np.frombuffer(saved["newest"], dtype=np.float64)
            parts = [
                (np.frombuffer(a, np.uint64), np.frombuffer(b, np.float64), np.frombuffer(c, np.int32))
                for a, b, c in saved["pieces"]
            ]
            if parts:
                seen._load_arrays(*(np.concatenate(col) for col in zip(*parts, strict=True)))
            return seen
        # A state written before times were kept: the ids, without their times. They guard against repeats
        # until their device sends again (their time is unknown: the oldest possible).
        if isinstance(saved, dict):
            old = [k for gen in saved["chunked"] for chunk in gen for k in _decode_ids(chunk)]
        else:
            old = [k for gen in saved for k in gen]
        seen._load_keys(old, [-math.inf] * len(old))
        return seen

    def _load_keys(self, keys: list[str], ts: list[float]) -> None:
        if not keys:
            return
        devices, ids = zip(*(k.partition(SEPARATOR)[::2] for k in keys), strict=True)
        hashes, codes = self._keys(devices, ids)
        self._load_arrays(hashes, np.asarray(ts, dtype=np.float64), codes.astype(np.int32))

    def _load_arrays(self, h: U64, ts: npt.NDArray[np.float64], dev: npt.NDArray[np.int32]) -> None:
        order = np.argsort(h, kind="stable")
        self._hash = np.concatenate([self._hash, h[order]])
        self._ts = np.concatenate([self._ts, ts[order]])
        self._dev = np.concatenate([self._dev, dev[order]])
        if len(self._hash) != len(h):  # a second batch: sort the whole again
            order = np.argsort(self._hash, kind="stable")
            self._hash, self._ts, self._dev = self._hash[order], self._ts[order], self._dev[order]
        self._filter = _Filter(self._hash)


_encode = msgspec.msgpack.encode
_decode_ids = msgspec.msgpack.Decoder(list[str]).decode
