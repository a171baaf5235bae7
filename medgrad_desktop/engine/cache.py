"""A thread-safe least-recently-used cache bounded by the bytes its values occupy."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Hashable
from typing import Any


def value_nbytes(value: Any) -> int:
    """Bytes a cached value occupies: its ``nbytes`` (numpy arrays, ``Evidence``, records)."""
    size = getattr(value, "nbytes", None)
    if size is None:
        raise TypeError(f"Cannot size a {type(value).__name__} for the cache (no nbytes).")
    return int(size)


class ByteLRUCache:
    """LRU mapping whose values' total ``nbytes`` never exceeds ``max_bytes``.

    Reading an entry makes it the most recent; adding one evicts the least recent entries until
    the total fits. A value larger than the whole cache is not stored. All methods are safe to
    call from several threads; the lock is held only for dictionary bookkeeping.
    """

    def __init__(self, max_bytes: int) -> None:
        if max_bytes < 0:
            raise ValueError("The cache size cannot be negative.")
        self.max_bytes = int(max_bytes)
        self.hits = 0
        self.misses = 0
        self.evictions = 0
        self._entries: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return self._total

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        """Membership without touching the LRU order or the counters."""
        with self._lock:
            return key in self._entries

    def keys_oldest_first(self) -> list[Hashable]:
        """Keys from least to most recently used."""
        with self._lock:
            return list(self._entries)

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The value for ``key`` (now the most recent), counting a hit or a miss."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                self.misses += 1
                return default
            self._entries.move_to_end(key)
            self.hits += 1
            return entry[0]

    def put(self, key: Hashable, value: Any) -> bool:
        """Store ``value`` as the most recent entry; False when it is too large to keep."""
        size = value_nbytes(value)
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._total -= old[1]
            if size > self.max_bytes:
                return False
            self._entries[key] = (value, size)
            self._total += size
            while self._total > self.max_bytes:
                _, (_, evicted) = self._entries.popitem(last=False)
                self._total -= evicted
                self.evictions += 1
            return True

    def pop(self, key: Hashable) -> Any:
        """Remove and return the value for ``key`` (None when absent)."""
        with self._lock:
            entry = self._entries.pop(key, None)
            if entry is None:
                return None
            self._total -= entry[1]
            return entry[0]

    def clear(self) -> None:
        """Drop every entry (the counters are kept)."""
        with self._lock:
            self._entries.clear()
            self._total = 0
