"""``load_image`` on the fuzz regression corpus, and folder listings with odd entries."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medgrad_desktop.errors import ImageLoadError
from medgrad_desktop.explain.images import IMAGE_SUFFIXES, list_image_names, load_image
from medgrad_desktop.explain.listing import folder_error_message, list_images

CORPUS = Path(__file__).resolve().parents[1] / "data" / "fuzz_images"
CORPUS_FILES = sorted(CORPUS.glob("fuzz-*"))


def test_the_corpus_holds_each_exception_type_the_fuzzer_found():
    kinds = {path.stem.split("-", 2)[2] for path in CORPUS_FILES}
    assert {"struct.error", "TypeError", "ok"} <= kinds
    assert sum(path.stat().st_size for path in CORPUS_FILES) < 100_000


@pytest.mark.parametrize("path", CORPUS_FILES, ids=lambda path: path.name)
def test_every_mutated_image_decodes_or_raises_image_load_error(path):
    try:
        rgb = load_image(path)
    except ImageLoadError as exc:
        assert path.name in str(exc) and str(exc).endswith(".")
    else:
        assert rgb.dtype == np.uint8 and rgb.ndim == 3 and rgb.shape[2] == 3


def _png(path: Path) -> Path:
    Image.fromarray(np.full((4, 4, 3), 90, np.uint8)).save(path)
    return path


def test_symlink_loops_dangling_links_and_long_names_are_skipped_and_reported(tmp_path):
    _png(tmp_path / "case_2.png")
    _png(tmp_path / "case_10.png")
    (tmp_path / "loop_a.png").symlink_to(tmp_path / "loop_b.png")
    (tmp_path / "loop_b.png").symlink_to(tmp_path / "loop_a.png")
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "absent.jpg")
    _png(tmp_path / ("x" * 220 + ".png"))
    listing = list_images(tmp_path, IMAGE_SUFFIXES)
    assert listing.names == ["case_2.png", "case_10.png"]
    reasons = dict(listing.skipped)
    assert "loop" in reasons["loop_a.png"] and "loop" in reasons["loop_b.png"]
    assert "link to nothing" in reasons["gone.jpg"]
    assert "too long" in reasons["x" * 220 + ".png"]
    assert listing.summary().startswith("4 file(s) were skipped")
    assert list_image_names(tmp_path) == listing.names


def test_a_name_that_is_not_valid_text_is_skipped(tmp_path):
    _png(tmp_path / "fine.png")
    bad = os.fsdecode(b"caf\xe9.png")  # Latin-1 bytes: not UTF-8
    try:
        _png(tmp_path / bad)
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system refuses non-UTF-8 names")
    listing = list_images(tmp_path, IMAGE_SUFFIXES)
    assert listing.names == ["fine.png"]
    assert listing.skipped == [("caf\ufffd.png", "its name is not valid text; rename it")]


UNPRIVILEGED = """
import os, sys
from pathlib import Path
from medgrad_desktop.explain.images import IMAGE_SUFFIXES
from medgrad_desktop.explain.listing import folder_error_message, list_images
if os.geteuid() == 0:  # imported first: the interpreter's own files may be root-only
    os.setgid(65534); os.setuid(65534)
folder = Path(sys.argv[1])
listing = list_images(folder / "open", IMAGE_SUFFIXES)
print(listing.names, listing.skipped)
try:
    list_images(folder / "closed", IMAGE_SUFFIXES)
except OSError as exc:
    print(folder_error_message(folder / "closed", exc))
"""


def test_unreadable_entries_and_folders_say_permission_denied():
    """Run as an unprivileged user (root reads everything), on real mode-000 files."""
    root = Path(tempfile.mkdtemp(prefix="medgrad-perm-"))
    try:
        root.chmod(0o755)
        (root / "open").mkdir(mode=0o755)
        (root / "closed").mkdir(mode=0o000)
        _png(root / "open" / "readable.png").chmod(0o644)
        _png(root / "open" / "secret.png").chmod(0o000)
        env = {**os.environ, "PYTHONPATH": os.getcwd()}
        done = subprocess.run(
            [sys.executable, "-c", UNPRIVILEGED, str(root)],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        lines = done.stdout.splitlines()
        assert lines[0] == "['readable.png'] [('secret.png', 'permission denied')]"
        assert lines[1] == "The folder closed cannot be opened: permission denied."
    finally:
        (root / "closed").chmod(0o755)
        subprocess.run(["rm", "-rf", str(root)], check=False)


def test_folder_error_messages_are_plain():
    folder = Path("/nowhere/images")
    assert "does not exist" in folder_error_message(folder, FileNotFoundError(2, "x"))
    assert "permission denied" in folder_error_message(folder, PermissionError(13, "x"))
