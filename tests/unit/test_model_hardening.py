"""Non-finite outputs become ``ComputeError``; model folders are checked before any model is
built; every loading failure is a plain ``ModelLoadError``."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

from medgrad_desktop.errors import ComputeError, ModelLoadError
from medgrad_desktop.explain import explain, load_model
from medgrad_desktop.explain.finite import NAN_MESSAGE
from tests.broken_models import copy_model, edit_json, edit_weights, nan_model

IMAGE = np.random.default_rng(0).integers(0, 256, (40, 56, 3), dtype=np.uint8)


def test_a_nan_model_raises_the_plain_compute_error(tiny_model_dir, tmp_path):
    bundle = load_model(nan_model(tiny_model_dir, tmp_path / "nan"))
    with pytest.raises(ComputeError) as raised:
        explain(bundle, IMAGE, ["melanoma", "nevus"])
    assert str(raised.value) == NAN_MESSAGE
    with pytest.raises(ComputeError, match="invalid numbers"):
        bundle.encode_image(IMAGE)
    # the same model with sound weights explains the image with finite numbers
    result = explain(load_model(tiny_model_dir), IMAGE, ["melanoma", "nevus"])
    assert np.isfinite(result.similarity).all() and np.isfinite(result.probability).all()


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"image_std": [0, 0, 0]}, "image_std"),
        ({"image_std": [0.2, -0.1, 0.3]}, "image_std"),
        ({"image_mean": "abc"}, "image_mean"),
        ({"image_mean": [0.5, 0.5]}, "image_mean"),
        ({"image_mean": [0.5, True, 0.5]}, "image_mean"),
    ],
)
def test_preprocessing_settings_are_validated(tiny_model_dir, tmp_path, changes, field):
    folder = edit_json(
        copy_model(tiny_model_dir, tmp_path / "m"), "preprocessor_config.json", **changes
    )
    with pytest.raises(ModelLoadError, match=f"'{field}'"):
        load_model(folder)


def test_nan_in_preprocessing_json_is_refused(tiny_model_dir, tmp_path):
    folder = copy_model(tiny_model_dir, tmp_path / "m")
    path = folder / "preprocessor_config.json"
    path.write_text(path.read_text().replace('"image_std": [', '"image_std": [NaN, '))
    with pytest.raises(ModelLoadError, match="'image_std'"):
        load_model(folder)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"vision_config__image_size": 8}, "smaller than one patch"),
        ({"vision_config__hidden_size": 0}, "whole number above zero"),
        ({"text_config__num_attention_heads": 5}, "model settings in m"),
        ({"vision_config__num_hidden_layers": 3}, "do not match"),
        ({"text_config__vocab_size": 100}, "do not match"),
        ({"vision_config__num_channels": 1}, "colour channels"),
    ],
)
def test_config_is_checked_against_itself_and_the_weights(
    tiny_model_dir, tmp_path, changes, message
):
    folder = edit_json(copy_model(tiny_model_dir, tmp_path / "m"), "config.json", **changes)
    with pytest.raises(ModelLoadError, match=message):
        load_model(folder)


def test_a_zero_dimension_tensor_is_refused(tiny_model_dir, tmp_path):
    folder = edit_weights(
        copy_model(tiny_model_dir, tmp_path / "m"),
        text_model__embeddings__token_embedding__weight=torch.zeros(0, 32),
    )
    with pytest.raises(ModelLoadError, match="do not match"):
        load_model(folder)


def test_huge_settings_are_refused_before_the_model_is_built(tiny_model_dir, tmp_path):
    """Settings describing a ~40 GB model over tiny weights, under a 4 GB address-space cap:
    building the model first would end in MemoryError, not in the mismatch message."""
    folder = edit_json(
        copy_model(tiny_model_dir, tmp_path / "m"),
        "config.json",
        vision_config__hidden_size=4096,
        vision_config__intermediate_size=16384,
        vision_config__num_hidden_layers=48,
    )
    script = textwrap.dedent(
        f"""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
        from medgrad_desktop.explain import load_model
        from medgrad_desktop.errors import ModelLoadError
        try:
            load_model({str(folder)!r})
        except ModelLoadError as exc:
            print(exc)
        """
    )
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert "do not match its CLIP settings" in done.stdout, done.stdout + done.stderr


def test_random_bytes_named_pth_are_not_called_program_code(tmp_path):
    path = tmp_path / "weights.pth"
    path.write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(ModelLoadError, match="not a PyTorch checkpoint") as raised:
        load_model(path)
    assert "program code" not in str(raised.value)


def test_an_unexpected_loading_error_is_a_model_load_error_with_a_log_reference(
    tiny_model_dir, monkeypatch, caplog
):
    import medgrad_desktop.explain.loading as loading

    def broken_tokenizer(*_args):
        raise TypeError("unsupported operand type(s)")

    monkeypatch.setattr(loading, "_load_tokenizer", broken_tokenizer)
    with caplog.at_level(logging.ERROR), pytest.raises(ModelLoadError) as raised:
        load_model(tiny_model_dir)
    message = str(raised.value)
    assert "unexpected error" in message and "TypeError" not in message
    reference = message.split("log reference ")[1].rstrip(").")
    assert any(reference in record.getMessage() for record in caplog.records)
