"""``load_model`` on Hugging Face folders and bad sources."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
import torch
from safetensors.torch import load_file

from medgrad_desktop.errors import ModelLoadError
from medgrad_desktop.explain import load_model


def test_hf_folder_bundle(tiny_model_dir):
    bundle = load_model(tiny_model_dir, device="cpu")
    assert bundle.image_size == 64 and bundle.device.type == "cpu"
    assert len(bundle.model_id) == 12
    assert not bundle.model.training
    image = np.zeros((30, 50, 3), np.uint8)
    pixels = bundle.preprocess([image, image])
    assert pixels.shape == (2, 3, 64, 64)
    emb = bundle.encode_image(pixels)
    assert emb.shape[0] == 2 and torch.allclose(emb.norm(dim=-1), torch.ones(2), atol=1e-5)
    text = bundle.encode_text(["melanoma", "nevus"])
    assert text.dtype == torch.float32
    assert torch.allclose(text.norm(dim=-1), torch.ones(2), atol=1e-5)
    assert bundle.model_id == load_model(tiny_model_dir).model_id


def test_model_id_differs_between_weights(tiny_model_factory):
    assert (
        load_model(tiny_model_factory(seed=0)).model_id
        != load_model(tiny_model_factory(seed=1)).model_id
    )


def test_long_prompt_truncated_with_end_token(tiny_model_dir):
    bundle = load_model(tiny_model_dir)
    tokens = bundle.tokenize(["melanoma " * 200, "nevus"])
    ids = tokens["input_ids"]
    assert ids.shape[1] == 77
    assert ids[0, -1].item() == bundle.tokenizer.eos_token_id
    assert bundle.encode_text(["melanoma " * 200]).shape[0] == 1


def test_empty_prompts_refused(tiny_model_dir):
    from medgrad_desktop.errors import PromptSetError

    bundle = load_model(tiny_model_dir)
    with pytest.raises(PromptSetError):
        bundle.encode_text([])
    with pytest.raises(PromptSetError):
        bundle.encode_text(["  "])


def test_missing_and_non_model_sources(tmp_path):
    with pytest.raises(ModelLoadError, match="could not be found"):
        load_model(tmp_path / "nothing")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ModelLoadError, match=r"config\.json"):
        load_model(tmp_path / "empty")
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ModelLoadError, match="not a model file"):
        load_model(tmp_path / "notes.txt")


def test_folder_of_other_model_type(tmp_path, tiny_model_dir):
    folder = tmp_path / "bert"
    shutil.copytree(tiny_model_dir, folder)
    (folder / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(ModelLoadError, match=r"not .*CLIP"):
        load_model(folder)


def test_folder_with_settings_but_no_weights(tmp_path, tiny_model_dir):
    folder = tmp_path / "noweights"
    shutil.copytree(tiny_model_dir, folder)
    for path in folder.glob("*.safetensors"):
        path.unlink()
    with pytest.raises(ModelLoadError, match="no weights"):
        load_model(folder)


def test_truncated_safetensors(tmp_path, tiny_model_dir):
    folder = tmp_path / "cut"
    shutil.copytree(tiny_model_dir, folder)
    weights = next(folder.glob("*.safetensors"))
    weights.write_bytes(weights.read_bytes()[:1000])
    with pytest.raises(ModelLoadError, match="damaged or incomplete"):
        load_model(folder)


def test_pickle_only_folder_loads_with_weights_only(tmp_path, tiny_model_dir):
    folder = tmp_path / "bin"
    shutil.copytree(tiny_model_dir, folder)
    weights = next(folder.glob("*.safetensors"))
    state = load_file(str(weights))
    weights.unlink()
    torch.save(state, folder / "pytorch_model.bin")
    bundle = load_model(folder)
    reference = load_model(tiny_model_dir)
    image = np.full((40, 40, 3), 120, np.uint8)
    assert torch.allclose(bundle.encode_image(image), reference.encode_image(image), atol=1e-6)


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickle_payload_in_folder_refused(tmp_path, tiny_model_dir):
    folder = tmp_path / "evil"
    shutil.copytree(tiny_model_dir, folder)
    for path in folder.glob("*.safetensors"):
        path.unlink()
    marker = tmp_path / "payload_ran"
    torch.save({"weights": _Payload(marker)}, folder / "pytorch_model.bin")
    with pytest.raises(ModelLoadError):
        load_model(folder)
    assert not marker.exists()


def test_cuda_requested_without_gpu(tiny_model_dir):
    if torch.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(ModelLoadError, match="CUDA"):
        load_model(tiny_model_dir, device="cuda")
