"""Idempotency: which (device, message id) pairs were already taken, so a resent message is taken once.

Memory is bounded: ids live in two generations of sets; when the current one is full it becomes the old
one and the oldest ids are forgotten. With the default of 500,000 per generation, the last 0.5-1 million
messages are remembered, minutes of traffic at full speed and hours at the demo's rate; a device resending
after longer than that is resending something it should have had acknowledged long ago.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence

import msgspec

SEPARATOR = "\x1f"  # between device and message id in a key: a character no id is expected to hold


class Seen:
    def __init__(self, per_generation: int = 500_000) -> None:
        self.per_generation = per_generation
        self._new: set[str] = set()
        self._old: set[str] = set()

    @staticmethod
    def key(device: str, message_id: str) -> str:
        return f"{device}{SEPARATOR}{message_id}"

    def fresh(self, device: str, message_id: str) -> bool:
        """True (and remembered) the first time a message is seen; False for a repeat."""
        k = f"{device}{SEPARATOR}{message_id}"
        if k in self._new or k in self._old:
            return False
        self._new.add(k)
        if len(self._new) >= self.per_generation:
            self._old, self._new = self._new, set()
        return True

    def fresh_all(self, devices: Sequence[str], message_ids: Sequence[str]) -> bool:
        """:meth:`fresh` for many messages at once (a whole body, checked with set operations): True, and
        all remembered, when every one is new and none is repeated within them; False, and nothing
        remembered, otherwise (the caller then asks message by message to learn which)."""
        keys = set(map(SEPARATOR.join, zip(devices, message_ids, strict=True)))
        if len(keys) != len(message_ids) or not keys.isdisjoint(self._new) or not keys.isdisjoint(self._old):
            return False
        self._new |= keys
        if len(self._new) >= self.per_generation:
            self._old, self._new = self._new, set()
        return True

    def remember_all(self, devices: Sequence[str], message_ids: Sequence[str]) -> bool:
        """:meth:`remember` for many messages at once."""
        self._new |= set(map(SEPARATOR.join, zip(devices, message_ids, strict=True)))
        if len(self._new) >= self.per_generation:
            self._old, self._new = self._new, set()
        return True

    def remember(self, device: str, message_id: str) -> bool:
        """Replay: a message in the journal was taken once already; remember it, whatever was known."""
        self.fresh(device, message_id)
        return True

    def forget(self, pairs: list[tuple[str, str]]) -> None:
        """Messages that were not taken after all (the journal write failed): a resend must be taken."""
        keys = {self.key(d, m) for d, m in pairs}
        self._new -= keys
        self._old = self._old - keys  # a new set: a snapshot may hold the old generation (see snapshot)

    def __len__(self) -> int:
        return len(self._new) + len(self._old)

    def snapshot(self, excluding: Sequence[tuple[str, str]] = ()) -> tuple[set[str], set[str], set[str]]:
        """The remembered ids less ``excluding`` (messages taken but not yet in the journal: after a crash
        their resend must be taken), for :meth:`encode`; taken quickly (the old generation is never
        changed in place, so it is shared, not copied) for encoding on another thread."""
        return self._old, self._new.copy(), {self.key(d, m) for d, m in excluding}

    @staticmethod
    def encode(snapshot: tuple[set[str], set[str], set[str]]) -> bytes:
        """The ids in chunks of ``CHUNK``, other threads running between chunks: encoded in one call, a
        million ids held the interpreter lock for about 100 ms every checkpoint, and the alarms of readings
        arriving meanwhile waited for it (the tail of the alert latency)."""
        old, new, skip = snapshot
        generations: list[list[bytes]] = []
        for ids in (old, new):
            chunks: list[bytes] = []
            rest = iter(ids)
            while chunk := list(itertools.islice(rest, CHUNK)):
                chunks.append(_encode([k for k in chunk if k not in skip] if skip else chunk))
                time.sleep(0)  # let the writer and the doors have the lock
            generations.append(chunks)
        return _encode({"chunked": generations})

    @classmethod
    def load(cls, blob: bytes, per_generation: int = 500_000) -> Seen:
        seen = cls(per_generation)
        saved = msgspec.msgpack.decode(blob)
        if isinstance(saved, dict):
            old, new = ([k for chunk in gen for k in _decode_ids(chunk)] for gen in saved["chunked"])
        else:  # a state file written before the chunks: [old ids, new ids]
            old, new = saved
        seen._old, seen._new = set(old), set(new)
        return seen


CHUNK = 10_000  # ids per encoded chunk: about 1 ms of the interpreter lock
_encode = msgspec.msgpack.encode
_decode_ids = msgspec.msgpack.Decoder(list[str]).decode
