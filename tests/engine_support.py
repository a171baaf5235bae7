"""Shared helpers for the engine tests and benchmarks: a recording listener and test images."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image


@functools.cache
def tiny_model_folder() -> Path:
    """One tiny random CLIP folder per test process (creating it is the slow part)."""
    from tests.tiny_models import make_tiny_clip_folder

    root = Path(tempfile.mkdtemp(prefix="medgrad-engine-tests-"))
    atexit.register(shutil.rmtree, root, True)
    return make_tiny_clip_folder(root / "tiny_clip")


PROMPTS = ["a melanoma", ("a benign nevus", "a common mole"), "a seborrheic keratosis"]


class RecordingListener:
    """An ``EngineListener`` that records every callback with its time, and lets tests wait."""

    def __init__(self) -> None:
        self.events: list[tuple[float, str, tuple]] = []
        self._cond = threading.Condition()

    def _record(self, kind: str, *args) -> None:
        with self._cond:
            self.events.append((time.monotonic(), kind, args))
            self._cond.notify_all()

    def model_loaded(self, info) -> None:
        self._record("model_loaded", info)

    def image_loaded(self, request_id, image) -> None:
        self._record("image_loaded", request_id, image)

    def evidence_ready(self, request_id, path, evidence) -> None:
        self._record("evidence_ready", request_id, path, evidence)

    def maps_ready(self, request_id, result) -> None:
        self._record("maps_ready", request_id, result)

    def failed(self, request_id, path, error) -> None:
        self._record("failed", request_id, path, error)

    def queue_changed(self, pending) -> None:
        self._record("queue_changed", pending)

    def of(self, kind: str, request_id: int | None = None) -> list[tuple]:
        """Arguments of the recorded ``kind`` callbacks (for ``request_id`` if given)."""
        with self._cond:
            return [
                args
                for _, k, args in self.events
                if k == kind and (request_id is None or args[0] == request_id)
            ]

    def wait_for(
        self,
        kind: str,
        request_id: int | None = None,
        timeout: float = 15.0,
        where: Callable[[tuple], bool] = lambda args: True,
    ) -> tuple:
        """The first matching callback's arguments, waiting up to ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                found = [args for args in self.of(kind, request_id) if where(args)]
                if found:
                    return found[0]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {kind} for request {request_id}: {self.kinds()}")
                self._cond.wait(left)

    def kinds(self) -> list[str]:
        with self._cond:
            return [kind for _, kind, _ in self.events]


def lesion_image(width: int, height: int, seed: int) -> np.ndarray:
    """A textured RGB test image: skin-like background, a dark blotchy blob, some noise."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = width * rng.uniform(0.35, 0.65), height * rng.uniform(0.35, 0.65)
    radius = min(width, height) * rng.uniform(0.2, 0.35)
    blob = np.exp(-(((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * radius**2)))
    texture = rng.normal(0, 18, (height, width, 1))
    skin = np.array([225, 180, 160], np.float32)
    lesion = np.array([90, 55, 40], np.float32)
    rgb = skin * (1 - blob[..., None]) + lesion * blob[..., None] + texture
    return np.clip(rgb, 0, 255).astype(np.uint8)


def write_images(folder: Path, count: int, size: tuple[int, int] = (96, 80)) -> list[Path]:
    """``count`` distinct PNG files of ``size`` (width, height) in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"case_{index:03d}.png"
        Image.fromarray(lesion_image(*size, seed=index)).save(path)
        paths.append(path)
    return paths


def write_corrupt_image(folder: Path) -> Path:
    """A file named like a PNG whose content is a truncated, damaged PNG."""
    path = folder / "broken.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"garbage" * 10)
    return path
