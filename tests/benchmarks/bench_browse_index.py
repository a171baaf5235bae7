"""Benchmark: indexing a folder for Browse by meaning, first time (model runs) vs cached.

``--n`` distinct images (160×160 PNG noise; the model resizes them anyway) are embedded with
the demo model on the CPU through ``embed_folder``, then embedded again from the on-disk cache
(every file re-hashed by size and mtime, no model run), side by side in one run.
Run: ``python tests/benchmarks/bench_browse_index.py [--n 600] [--model demo]``
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def make_folder(folder: Path, count: int) -> Path:
    import numpy as np
    from PIL import Image

    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for index in range(count):
        pixels = rng.integers(0, 256, (160, 160, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"img{index:05d}.png")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--model", default="demo")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="medgrad-bench-index-"))
    os.environ.setdefault("MEDGRAD_USER_DATA", str(root / "userdata"))
    try:
        from medgrad_desktop.browse.embedding_cache import EmbeddingCache
        from medgrad_desktop.browse.folder_embeddings import embed_folder
        from medgrad_desktop.explain import load_model

        folder = make_folder(root / "images", args.n)
        bundle = load_model(args.model, device="cpu")
        cache = EmbeddingCache(root / "cache.sqlite")
        runs = []

        def counting(call):
            runs.append(1)
            return call()

        started = time.perf_counter()
        first = embed_folder(bundle, folder, cache=cache, run_model=counting)
        first_s = time.perf_counter() - started
        batches = len(runs)
        started = time.perf_counter()
        again = embed_folder(bundle, folder, cache=EmbeddingCache(root / "cache.sqlite"),
                             run_model=counting)  # fmt: skip
        cached_s = time.perf_counter() - started
        assert len(runs) == batches and (again.vectors == first.vectors).all()
        print(f"first: {first_s:.2f} s ({batches} model batches); cached: {cached_s:.3f} s")
        print(
            f"folder index, {args.n} images, CPU: first {first_s:.1f} s, cached {cached_s:.2f} s "
            f"({first_s / cached_s:.0f}x faster)"
        )
        return 0
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
