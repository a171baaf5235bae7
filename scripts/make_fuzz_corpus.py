"""Write the image fuzz regression corpus ``tests/data/fuzz_images/`` (deterministic).

Small seed images (PNG, JPEG and WebP with EXIF, TIFF with tags, GIF, BMP, 16-bit TIFF) are
mutated with a seeded generator — bytes overwritten mostly in the EXIF block or TIFF tag
directory, sometimes truncated or with a run duplicated. Every mutation that made the
unhardened ``load_image`` raise something other than ``ImageLoadError`` is kept (the first
``--per-type`` of each exception type, named in the file name), plus a few that decode or fail
cleanly, so the corpus stays small (about ten files, a few KB).

    python scripts/make_fuzz_corpus.py
"""

from __future__ import annotations

import argparse
import io
import random
import sys
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "fuzz_images"


def seed_images() -> dict[str, bytes]:
    """Encoded seed images, each a few hundred bytes to a few KB."""
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate
    exif[0x010F] = "MedGrad test camera"
    seeds = {}
    for name, kwargs in (
        ("png", {"format": "PNG", "exif": exif}),
        ("jpg", {"format": "JPEG", "exif": exif, "quality": 80}),
        ("tif", {"format": "TIFF", "exif": exif}),
        ("gif", {"format": "GIF"}),
        ("webp", {"format": "WEBP", "exif": exif}),
        ("bmp", {"format": "BMP"}),
    ):
        buffer = io.BytesIO()
        rgb.save(buffer, **kwargs)
        seeds[name] = buffer.getvalue()
    buffer = io.BytesIO()
    grey16 = Image.fromarray(rng.integers(0, 65535, (10, 10), dtype=np.uint16))
    grey16.save(buffer, format="TIFF")
    seeds["16.tif"] = buffer.getvalue()
    return seeds


def _header_span(data: bytes, suffix: str) -> tuple[int, int]:
    """Where the metadata lives: the EXIF block, or a TIFF's tag directory (IFD)."""
    if suffix.endswith("tif"):
        return int.from_bytes(data[4:8], "little"), len(data)
    start = max(data.find(b"Exif\x00\x00"), 0)
    return start, min(len(data), start + 200)


def mutate(data: bytes, suffix: str, rng: random.Random) -> bytes:
    """Overwrite 1–3 bytes (mostly in the metadata), sometimes truncate or duplicate a run."""
    out = bytearray(data)
    low, high = _header_span(data, suffix) if rng.random() < 0.8 else (0, len(data))
    for _ in range(rng.randint(1, 3)):
        position = rng.randrange(low, max(low + 1, high))
        out[position] = rng.choice([0, 1, 2, 0x7F, 0x80, 0xFF, rng.randrange(256)])
    if rng.random() < 0.1:
        out = out[: rng.randrange(8, len(out))]
    elif rng.random() < 0.1:
        position = rng.randrange(len(out))
        out[position:position] = out[position : position + rng.randint(4, 32)]
    return bytes(out)


def unhardened_load(data: bytes) -> None:
    """What ``load_image`` did before the hardening (only its documented exceptions caught)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        caught = (OSError, ValueError, SyntaxError, Image.DecompressionBombError)
        try:
            image = Image.open(io.BytesIO(data))
        except caught:
            return
        try:
            image.load()
            ImageOps.exif_transpose(image).convert("RGB")
        except caught:
            return


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=12000)
    parser.add_argument("--per-type", type=int, default=3)
    parser.add_argument("--clean", type=int, default=6, help="cleanly failing files to keep")
    args = parser.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    for old in OUT.glob("fuzz-*"):
        old.unlink()
    rng = random.Random(17)
    seeds = seed_images()
    kept: dict[str, int] = {}
    clean = 0
    for attempt in range(args.tries):
        suffix = rng.choice(sorted(seeds))
        data = mutate(seeds[suffix], suffix, rng)
        try:
            unhardened_load(data)
        except Exception as exc:
            kind = type(exc)
            name = kind.__name__ if kind.__module__ == "builtins" else kind.__qualname__
            name = f"{kind.__module__}.{name}" if kind.__module__ != "builtins" else name
            if kept.get(name, 0) >= args.per_type:
                continue
            kept[name] = kept.get(name, 0) + 1
            (OUT / f"fuzz-{attempt:05d}-{name}.{suffix.split('.')[-1]}").write_bytes(data)
            continue
        if clean < args.clean:
            clean += 1
            (OUT / f"fuzz-{attempt:05d}-ok.{suffix.split('.')[-1]}").write_bytes(data)
    total = sum(p.stat().st_size for p in OUT.glob("fuzz-*"))
    print(f"kept {kept} and {clean} clean cases ({total} bytes) in {OUT}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
