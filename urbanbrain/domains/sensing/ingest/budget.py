"""How many bytes of readings bodies the HTTP door reads at once.

The pending limit counts readings once a body is checked, but a body is read whole before it can be checked:
200 senders posting at once would all be read into memory first (16 MiB each at most). So the door reserves a
body's bytes before it reads them (its Content-Length, or chunk by chunk when it has none) and gives them back
once the body is answered; past the budget it answers 429 with Retry-After without reading the body. One body
is always let in, however large (up to the body limit), so a small budget cannot refuse a sender forever.
"""

from __future__ import annotations

import threading

from urbanbrain.core.config import BYTES_PER_PENDING_READING

# A reading takes ~60 bytes of JSON and ~500 once checked and queued: a quarter of the pending limit's bytes
# for the raw bodies keeps what is read and what it becomes within the same order of memory.
SHARE_OF_PENDING = 4


class BodyBudget:
    """Bytes of bodies being read or waiting for their answer, shared by the door's requests (thread-safe:
    the door's event loop and the threads answering)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0
        self.bodies = 0
        self._lock = threading.Lock()

    @classmethod
    def for_pending(cls, max_pending: int) -> BodyBudget:
        return cls(max(1, max_pending * BYTES_PER_PENDING_READING // SHARE_OF_PENDING))

    def reserve(self, n: int, *, more_of_one: bool = False) -> bool:
        """Hold ``n`` more bytes if they fit (or nothing else is held): whether they are held.
        ``more_of_one``: the bytes belong to a body already holding some (it counts once)."""
        with self._lock:
            alone = self.bodies == (1 if more_of_one else 0)
            if self.held + n > self.limit and not alone:
                return False
            self.held += n
            if not more_of_one:
                self.bodies += 1
            return True

    def release(self, n: int) -> None:
        """A body's bytes, all of them, once it is answered."""
        with self._lock:
            self.held -= n
            self.bodies -= 1
