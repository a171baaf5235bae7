"""``explain`` CLI hardening: per-file errors and the summary, unique output names, argument
checks, NaN models, full disks, and bounded memory on thin and 24-megapixel images."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from medgrad_desktop.cli import main
from medgrad_desktop.explain.finite import NAN_MESSAGE
from tests.broken_models import nan_model

CORPUS = Path(__file__).resolve().parents[1] / "data" / "fuzz_images"


def _image(path: Path, size=(40, 30), seed=0) -> Path:
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)).save(path)
    return path


def _prompts(tmp_path: Path) -> Path:
    path = tmp_path / "set.yaml"
    path.write_text(
        "name: t\nclasses: [melanoma, nevus]\ncriteria: [{label: streaks, prompts: [streaks]}]\n"
    )
    return path


def _explain(tmp_path, model, *extra) -> int:
    argv = ["explain", *map(str, extra), "--model", str(model), "--prompts"]
    return main([*argv, str(_prompts(tmp_path)), "--out", str(tmp_path / "out")])


def test_a_folder_with_a_corrupt_image_goes_on_and_summarises(tmp_path, tiny_model_dir, capsys):
    folder = tmp_path / "images"
    folder.mkdir()
    _image(folder / "a.png")
    (folder / "b.tif").write_bytes((CORPUS / "fuzz-07259-TypeError.tif").read_bytes())
    _image(folder / "c.png", seed=2)
    assert _explain(tmp_path, tiny_model_dir, folder) == 3
    err = capsys.readouterr().err
    assert "skipped" in err and "b.tif" in err and "Traceback" not in err
    assert "Explained 2 of 3 images; 1 could not be explained" in err
    assert {p.name for p in (tmp_path / "out").glob("*.json")} == {"a.png.json", "c.png.json"}


def test_all_good_is_exit_code_0_with_probabilities_for_classes_only(tmp_path, tiny_model_dir):
    from medgrad_desktop.explain import load_model
    from medgrad_desktop.explain.zero_shot import class_probabilities

    image = _image(tmp_path / "x.png")
    assert _explain(tmp_path, tiny_model_dir, image) == 0
    summary = json.loads((tmp_path / "out" / "x.png.json").read_text())
    assert summary["kinds"] == ["class", "class", "criterion"]
    assert summary["probability"][2] is None
    # independent check: softmax over the two class similarities only
    scale = load_model(tiny_model_dir).logit_scale
    logits = scale * np.array(summary["similarity"][:2])
    expected = np.exp(logits - logits.max()) / np.exp(logits - logits.max()).sum()
    np.testing.assert_allclose(summary["probability"][:2], expected, atol=1e-5)
    np.testing.assert_allclose(
        class_probabilities(summary["similarity"], [0, 1], scale), expected, atol=1e-5
    )
    assert not (tmp_path / "out" / "x.png_medgrad.npy").exists()  # full maps only on request
    assert np.load(tmp_path / "out" / "x.png_medgrad_patch.npy").shape == (3, 4, 4)


def test_same_names_in_two_folders_and_two_formats_do_not_overwrite(tmp_path, tiny_model_dir):
    for folder in ("left", "right"):
        (tmp_path / folder).mkdir()
        _image(tmp_path / folder / "a.png", seed=len(folder))
    _image(tmp_path / "left" / "a.jpg", seed=9)
    code = _explain(tmp_path, tiny_model_dir, tmp_path / "left", tmp_path / "right")
    assert code == 0
    out = tmp_path / "out"
    names = sorted(str(p.relative_to(out)) for p in out.rglob("*.json"))
    assert names == ["left/a.jpg.json", "left/a.png.json", "right/a.png.json"]
    images = {json.loads(p.read_text())["image"] for p in out.rglob("*.json")}
    assert len(images) == 3


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--radius", "nan"], "entropy radius must be a number from 1 to 25"),
        (["--radius", "1e9"], "entropy radius must be a number from 1 to 25"),
        (["--opacity", "2"], "opacity must be a number from 0 to 1"),
        (["--colormap", "rainbow"], "colour map 'rainbow' is unknown"),
    ],
)
def test_bad_arguments_are_plain_messages(tmp_path, tiny_model_dir, capsys, flags, message):
    image = _image(tmp_path / "x.png")
    assert _explain(tmp_path, tiny_model_dir, image, *flags) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and "ValueError" not in err


def test_a_nan_model_reports_each_image_and_exits_3(tmp_path, tiny_model_dir, capsys):
    image = _image(tmp_path / "x.png")
    assert _explain(tmp_path, nan_model(tiny_model_dir, tmp_path / "nan"), image) == 3
    err = capsys.readouterr().err
    assert NAN_MESSAGE in err


def test_a_non_utf8_file_name_is_explained(tmp_path, tiny_model_dir, capsys):
    name = os.fsdecode(b"l\xe9sion.png")
    try:
        image = _image(tmp_path / name)
    except (OSError, UnicodeEncodeError):
        pytest.skip("the file system refuses non-UTF-8 names")
    assert _explain(tmp_path, tiny_model_dir, image) == 0
    assert len(list((tmp_path / "out").glob("*_panel.png"))) == 1


FULL_DISK = """
import resource, sys
from medgrad_desktop.cli import main
resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))  # any file over 20 kB: disk full
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.slow
def test_a_full_output_disk_stops_the_batch_with_a_plain_message(tmp_path, tiny_model_dir):
    """RLIMIT_FSIZE makes writes past 20 kB fail with EFBIG, as ENOSPC does on a full disk;
    SIGXFSZ is ignored so the write returns the error instead of killing the process."""
    images = [_image(tmp_path / f"{i}.png", size=(300, 200), seed=i) for i in range(3)]
    script = "import signal; signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n" + FULL_DISK
    argv = ["explain", *map(str, images), "--model", str(tiny_model_dir)]
    argv += ["--prompts", str(_prompts(tmp_path)), "--out", str(tmp_path / "out")]
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script, *argv], capture_output=True, text=True, env=env, timeout=300
    )
    assert done.returncode == 3, done.stderr
    assert "has no room left for the outputs" in done.stderr and "Traceback" not in done.stderr
    assert "Explained 0 of 3 images" in done.stderr
    assert not list((tmp_path / "out").glob("*_panel.png"))  # partial outputs removed


def test_a_really_full_disk_is_refused(tmp_path, tiny_model_dir, capsys):
    """A 256 kB tmpfs as the output folder (needs root to mount; skipped otherwise)."""
    out = tmp_path / "small-disk"
    out.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(out)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip("cannot mount a small tmpfs here")
    try:
        images = [_image(tmp_path / f"{i}.png", size=(300, 200), seed=i) for i in range(3)]
        argv = ["explain", *map(str, images), "--model", str(tiny_model_dir), "--out", str(out)]
        assert main([*argv, "--full-maps"]) == 3
        err = capsys.readouterr().err
        assert "has no room left for the outputs" in err
    finally:
        subprocess.run(["umount", str(out)], check=False)


MEMORY_CAPPED = """
import resource, sys
cap = int(sys.argv[1]) << 20
resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
from medgrad_desktop.cli import main
code = main(sys.argv[2:])
print("peak_rss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
sys.exit(code)
"""


def explain_under_cap(image: Path, model: Path, out: Path, cap_mb: int, *extra):
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    argv = [str(cap_mb), "explain", str(image), "--model", str(model), "--out", str(out)]
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(MEMORY_CAPPED), *argv, *extra],
        capture_output=True,
        text=True,
        env=env,
        timeout=600,
    )


@pytest.mark.slow
def test_a_thin_10x4000_png_is_explained_under_a_memory_cap(tmp_path, tiny_model_dir):
    image = tmp_path / "strip.png"
    Image.new("RGB", (10, 4000), (180, 120, 100)).save(image)
    assert image.stat().st_size < 2000
    done = explain_under_cap(image, tiny_model_dir, tmp_path / "out", 3072)
    assert done.returncode == 0, done.stderr[-2000:]
    with Image.open(tmp_path / "out" / "strip.png_panel.png") as panel:
        assert panel.size[0] * panel.size[1] <= 16_000_000


@pytest.mark.slow
def test_a_24_megapixel_photo_is_explained_under_a_memory_cap(tmp_path, tiny_model_dir):
    rng = np.random.default_rng(0)
    tile = rng.integers(0, 256, (500, 500, 3), dtype=np.uint8)
    image = tmp_path / "photo.jpg"
    Image.fromarray(np.tile(tile, (8, 12, 1))).save(image, quality=70)  # 6000 × 4000
    done = explain_under_cap(image, tiny_model_dir, tmp_path / "out", 3072)
    assert done.returncode == 0, done.stderr[-2000:]
    written = sum(p.stat().st_size for p in (tmp_path / "out").iterdir())
    assert written < 5_000_000  # patch-grid maps, JSON and panel; not gigabytes of .npy
    peak_mb = int(done.stdout.split("peak_rss_mb")[-1])
    assert peak_mb < 2048, peak_mb


def test_full_maps_are_the_display_maps_prompt_by_prompt(tmp_path, tiny_model_dir):
    from medgrad_desktop.explain import explain, load_image, load_model
    from medgrad_desktop.explain.prompt_sets import load_prompt_set

    image = _image(tmp_path / "x.png", size=(90, 60), seed=4)
    assert _explain(tmp_path, tiny_model_dir, image, "--full-maps", "--radius", "3") == 0
    prompt_set = load_prompt_set(tmp_path / "set.yaml")
    reference = explain(
        load_model(tiny_model_dir), load_image(image), prompt_set.prompts(), entropy_radius=3
    )
    for method, maps in reference.maps.items():
        written = np.load(tmp_path / "out" / f"x.png_{method}.npy")
        assert written.shape == (3, 60, 90)
        np.testing.assert_allclose(written, maps, atol=1e-5)
