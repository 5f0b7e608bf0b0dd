"""Giving memory back to the operating system after a burst.

CPython's allocator and glibc's malloc keep freed memory for reuse, so a process's resident size stays at
its peak after a burst of work (a million readings parsed, then processed) even when it is idle again.
``trim()`` asks glibc to return what it can (``malloc_trim``); elsewhere it does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging

log = logging.getLogger(__name__)


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def trim() -> bool:
    """Return freed heap memory to the operating system; True when it could be asked."""
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
