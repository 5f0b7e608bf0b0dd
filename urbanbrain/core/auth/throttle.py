"""Login throttling: failed logins counted per user name and per client address, and a cap on the Argon2
verifications running at once.

Each password check costs Argon2 work on purpose, so an unlimited login door is both a password-guessing
door and a way to exhaust the CPU. A name with ``NAME_FAILURES`` failed logins in the last ``WINDOW`` is
refused (HTTP 429 with Retry-After) until the oldest of them leaves the window; an address gets
``ADDRESS_FAILURES``, more, so one office behind one NAT address is not locked out by one person's typos. A
refusal comes before any hash is checked, so a flood costs no Argon2 work; a successful login clears its
name's failures.

The counts are kept in memory, in each process on its own: with N server processes an attacker gets up to
N times the limits, and a restart forgets them. All time is the platform's clock.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from urbanbrain.core.clock import Clock
from urbanbrain.core.context import Platform
from urbanbrain.core.errors import UrbanBrainError, register_messages

WINDOW = timedelta(minutes=15)
NAME_FAILURES = 5
ADDRESS_FAILURES = 30
VERIFY_SLOTS = 2 * (os.cpu_count() or 1)  # Argon2 verifications at once in this process
VERIFY_WAIT_S = 2.0  # how long a login waits for a slot before it is told to come back
MAX_KEYS = 100_000  # names and addresses remembered; past it, forgotten oldest first

register_messages(
    {
        "auth.too_many_attempts": (
            429,
            "登录失败次数过多，请 {retry_after} 秒后再试。",
            "Too many failed logins; try again in {retry_after} s.",
        ),
        "auth.busy": (
            503,
            "登录请求过多，请 {retry_after} 秒后重试。",
            "Too many logins at once; try again in {retry_after} s.",
        ),
    }
)


class _Failures:
    """When each key (a name, an address) last failed, at most ``limit`` times each, oldest first."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.times: dict[str, deque[float]] = {}

    def wait(self, key: str, now: float, window: float) -> float:
        """Seconds until ``key`` may try again (0: now)."""
        times = self.times.get(key)
        if times is None or len(times) < self.limit:
            return 0.0
        return max(0.0, times[0] + window - now)

    def add(self, key: str, now: float, window: float) -> None:
        times = self.times.pop(key, None) or deque(maxlen=self.limit)
        times.append(now)
        self.times[key] = times  # re-inserted: the dict's order is the order of the last failures
        if len(self.times) > MAX_KEYS:
            self._forget(now, window)

    def clear(self, key: str) -> None:
        self.times.pop(key, None)

    def _forget(self, now: float, window: float) -> None:
        """Drop keys whose last failure left the window, then, if still too many, the longest quiet."""
        for key in [k for k, t in self.times.items() if t[-1] + window <= now]:
            del self.times[key]
        for key in list(self.times)[: max(0, len(self.times) - MAX_KEYS)]:
            del self.times[key]


class LoginThrottle:
    """The login door's guard; one per platform (see :func:`throttle_of`)."""

    def __init__(
        self,
        clock: Clock,
        *,
        window: timedelta = WINDOW,
        name_failures: int = NAME_FAILURES,
        address_failures: int = ADDRESS_FAILURES,
        verify_slots: int = VERIFY_SLOTS,
        verify_wait_s: float = VERIFY_WAIT_S,
    ) -> None:
        self.clock = clock
        self.window = window.total_seconds()
        self.names = _Failures(name_failures)
        self.addresses = _Failures(address_failures)
        self.slots = threading.BoundedSemaphore(verify_slots)
        self.verify_wait_s = verify_wait_s
        self._lock = threading.Lock()

    def _now(self) -> float:
        return self.clock.now().timestamp()

    def check(self, username: str, address: str) -> None:
        """Raise ``auth.too_many_attempts`` (with ``retry_after`` in whole seconds) when the name or the
        address has used up its failures."""
        now = self._now()
        with self._lock:
            wait = max(
                self.names.wait(_name(username), now, self.window),
                self.addresses.wait(address, now, self.window),
            )
        if wait > 0:
            raise UrbanBrainError("auth.too_many_attempts", retry_after=max(1, int(wait + 0.999)))

    def failed(self, username: str, address: str) -> None:
        now = self._now()
        with self._lock:
            self.names.add(_name(username), now, self.window)
            self.addresses.add(address, now, self.window)

    def succeeded(self, username: str) -> None:
        with self._lock:
            self.names.clear(_name(username))

    @contextmanager
    def verifying(self) -> Iterator[None]:
        """Hold one of the process's Argon2 slots, or raise ``auth.busy`` after waiting ``verify_wait_s``."""
        if not self.slots.acquire(timeout=self.verify_wait_s):
            raise UrbanBrainError("auth.busy", retry_after=1)
        try:
            yield
        finally:
            self.slots.release()


def _name(username: str) -> str:
    # Case-folded: "Admin" and "admin" share their failures (the check can only get stricter).
    return username.strip().casefold()


CACHE_KEY = "core.login_throttle"
_making = threading.Lock()


def throttle_of(platform: Platform) -> LoginThrottle:
    """The platform's throttle, made on first use with the platform's clock."""
    with _making:
        throttle: LoginThrottle | None = platform.caches.get(CACHE_KEY)
        if throttle is None:
            throttle = platform.caches[CACHE_KEY] = LoginThrottle(platform.clock)
    return throttle
