"""Keep the resident size near what the caches hold: glibc otherwise retains freed image-sized
blocks (dynamic mmap threshold, per-thread arenas), and RSS grows far past the cache budget
while browsing. No-ops where glibc is not the allocator (Windows, macOS, musl)."""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import sys

log = logging.getLogger(__name__)

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
MMAP_THRESHOLD_BYTES = 256 * 1024
"""Blocks at least this large (a 256×256 float map) get their own mapping, returned on free."""


def _glibc():
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        libc.mallopt  # noqa: B018  (glibc has it; musl does not)
        libc.malloc_trim  # noqa: B018
    except (OSError, AttributeError):
        return None
    return libc


_LIBC = _glibc()


def limit_heap_retention() -> bool:
    """Fix glibc's mmap threshold and cap its arenas (call once, early). True if applied."""
    if _LIBC is None:
        return False
    applied = all(
        _LIBC.mallopt(option, value) == 1
        for option, value in (
            (M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES),
            (M_TRIM_THRESHOLD, 4 * MMAP_THRESHOLD_BYTES),
            (M_ARENA_MAX, 4),
        )
    )
    log.debug("glibc heap retention limits applied: %s", applied)
    return applied


def release_free_memory() -> None:
    """Give free heap pages back to the system (after a burst of image work)."""
    if _LIBC is not None:
        _LIBC.malloc_trim(0)
