"""Blinding: panel labels and case order, reproducible from (seed, reader, case).

Randomness comes from SHA-256 of the inputs (never Python's ``hash()``, which changes between
runs), so the same session shows the same order after a restart, on any machine, while two
readers get different orders.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Sequence

PANEL_LABELS = ("A", "B", "C", "D", "E", "F")


def seeded_rng(seed: int, *parts: str) -> random.Random:
    """A ``random.Random`` determined by ``seed`` and the text ``parts`` only."""
    payload = json.dumps([int(seed), *parts], ensure_ascii=False).encode("utf-8")
    return random.Random(int.from_bytes(hashlib.sha256(payload).digest(), "big"))


def case_order(seed: int, reader: str, cases: Iterable[str]) -> list[str]:
    """The order in which ``reader`` sees ``cases`` (independent of the input order)."""
    ordered = sorted(cases)
    seeded_rng(seed, "case-order", reader).shuffle(ordered)
    return ordered


def panel_assignment(
    seed: int, reader: str, case: str, methods: Sequence[str]
) -> list[tuple[str, str]]:
    """``[(label, method), ...]`` for one case: labels A, B, C… over shuffled methods."""
    if len(methods) > len(PANEL_LABELS):
        raise ValueError(f"at most {len(PANEL_LABELS)} methods can be blinded")
    shuffled = sorted(methods)
    seeded_rng(seed, "panels", reader, case).shuffle(shuffled)
    return list(zip(PANEL_LABELS, shuffled, strict=False))
