"""``medgrad-desktop explain``: panels, raw maps and JSON per image; bad images skipped."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from medgrad_desktop.cli import main


def test_explain_cli_writes_outputs(tmp_path, tiny_model_dir):
    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for name in ("a.png", "b.png"):
        Image.fromarray(rng.integers(0, 256, (48, 72, 3), dtype=np.uint8)).save(images / name)
    (images / "broken.jpg").write_bytes(b"garbage")
    prompts = tmp_path / "prompts.txt"
    prompts.write_text("melanoma\natypical nevus\ncommon nevus\n", encoding="utf-8")
    out = tmp_path / "out"
    code = main(
        [
            "explain",
            str(images),
            "--model",
            str(tiny_model_dir),
            "--prompts",
            str(prompts),
            "--radius",
            "3",
            "--out",
            str(out),
            "--full-maps",
        ]
    )
    assert code == 3  # one image was bad
    for stem in ("a.png", "b.png"):
        summary = json.loads((out / f"{stem}.json").read_text())
        assert summary["prompts"] == ["melanoma", "atypical nevus", "common nevus"]
        assert len(summary["probability"]) == 3
        assert abs(sum(summary["probability"]) - 1) < 1e-5
        assert "Research use only" in summary["notice"]
        maps = np.load(out / f"{stem}_medgrad.npy")
        assert maps.shape == (3, 48, 72)
        assert np.load(out / f"{stem}_gradcam_patch.npy").shape == (3, 4, 4)
        with Image.open(out / f"{stem}_panel.png") as panel:
            assert panel.size[0] > 400 and panel.size[1] > 300
    assert not (out / "broken.jpg.json").exists()


def test_explain_cli_bad_model_is_a_plain_error(tmp_path, capsys):
    image = tmp_path / "x.png"
    Image.new("RGB", (10, 10)).save(image)
    code = main(["explain", str(image), "--model", str(tmp_path / "missing")])
    assert code == 2
    assert "could not be found" in capsys.readouterr().err
