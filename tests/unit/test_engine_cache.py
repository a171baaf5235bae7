"""ByteLRUCache: byte bound, LRU order, counters, thread safety."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from medgrad_desktop.engine.cache import ByteLRUCache
from medgrad_desktop.explain.attribution import Evidence


def block(nbytes: int, fill: int = 0) -> np.ndarray:
    return np.full(nbytes, fill, dtype=np.uint8)


def test_least_recently_used_entries_are_evicted_to_respect_the_byte_bound():
    cache = ByteLRUCache(100)
    cache.put("a", block(40, 1))
    cache.put("b", block(40, 2))
    assert cache.get("a")[0] == 1  # "a" is now the most recent
    cache.put("c", block(40, 3))
    assert "b" not in cache and "a" in cache and "c" in cache
    assert cache.total_bytes == 80 <= cache.max_bytes
    assert cache.keys_oldest_first() == ["a", "c"]
    assert cache.evictions == 1


def test_replacing_a_key_updates_its_size_and_too_large_values_are_not_kept():
    cache = ByteLRUCache(100)
    cache.put("a", block(30))
    cache.put("a", block(60))
    assert cache.total_bytes == 60 and len(cache) == 1
    assert cache.put("huge", block(101)) is False
    assert "huge" not in cache and cache.total_bytes == 60
    assert cache.pop("a").nbytes == 60 and cache.total_bytes == 0


def test_hits_misses_and_clear():
    cache = ByteLRUCache(1000)
    cache.put("x", block(10))
    assert cache.get("x") is not None and cache.get("y") is None
    assert cache.get("y", "fallback") == "fallback"
    assert (cache.hits, cache.misses) == (1, 2)
    cache.clear()
    assert len(cache) == 0 and cache.total_bytes == 0 and cache.get("x") is None


def test_evidence_is_sized_by_its_nbytes():
    evidence = Evidence(
        similarity=np.zeros(3, np.float32),
        probability=np.zeros(3, np.float32),
        patch_maps={"medgrad": np.zeros((3, 4, 4), np.float32)},
    )
    cache = ByteLRUCache(10_000)
    cache.put("e", evidence)
    assert cache.total_bytes == evidence.nbytes > 0
    with pytest.raises(TypeError):
        cache.put("n", 3)


def test_concurrent_use_keeps_the_bound_and_the_byte_count_exact():
    cache = ByteLRUCache(5_000)

    def hammer(offset: int) -> None:
        for i in range(400):
            cache.put((offset, i % 50), block(100 + (i % 7) * 10))
            cache.get((offset, (i * 3) % 50))

    threads = [threading.Thread(target=hammer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    keys = cache.keys_oldest_first()
    assert cache.total_bytes <= 5_000
    assert cache.total_bytes == sum(cache.pop(key).nbytes for key in keys)
