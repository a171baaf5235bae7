"""OpenAI-format CLIP checkpoints: safe reading, architecture inference, exact conversion."""

from __future__ import annotations

import pickle
import re

import pytest
import torch
from safetensors.torch import save_file
from torch import nn

from medgrad_desktop.errors import ModelLoadError
from medgrad_desktop.explain.openai_format import (
    convert_openai_state_dict,
    infer_openai_clip_config,
    is_openai_clip_state_dict,
    read_checkpoint_file,
)
from medgrad_desktop.explain.tokenizer import load_openai_tokenizer, tokenize
from tests.openai_reference import OpenAIClip, float32_copy, tiny_openai_clip

PROMPTS = ["a dermoscopic image of melanoma", "nevus", "blue-white veil, " * 30]


@pytest.fixture(scope="module", params=[16, 32], ids=["patch16", "patch32"])
def reference(request):
    """A tiny OpenAI CLIP (mixed fp16/fp32 weights) and its float32 twin for the forward."""
    model = tiny_openai_clip(seed=request.param, patch=request.param)
    return model, float32_copy(model)


@pytest.fixture(scope="module")
def tokenizer():
    return load_openai_tokenizer()


def openai_token_rows(batch: dict[str, torch.Tensor], context_length: int = 77) -> torch.Tensor:
    """The same tokens laid out as OpenAI's tokenize does: zero padding to 77."""
    rows = torch.zeros(batch["input_ids"].shape[0], context_length, dtype=torch.long)
    width = batch["input_ids"].shape[1]
    rows[:, :width] = batch["input_ids"] * batch["attention_mask"]
    return rows


def features(output) -> torch.Tensor:
    """get_*_features returns a tensor (transformers 4) or an output with pooler_output (5)."""
    return output if isinstance(output, torch.Tensor) else output.pooler_output


def test_checkpoint_converts_to_clipmodel_with_equal_embeddings(reference, tokenizer, tmp_path):
    model, model32 = reference
    state_dict = model.state_dict()
    assert {tensor.dtype for tensor in state_dict.values()} == {torch.float16, torch.float32}
    path = tmp_path / "finetuned.pth"
    torch.save(state_dict, path)

    clip = convert_openai_state_dict(read_checkpoint_file(path))

    assert not clip.training
    assert all(p.dtype == torch.float32 for p in clip.parameters())
    patch = model.visual.conv1.kernel_size[0]
    assert clip.config.vision_config.patch_size == patch
    assert clip.config.vision_config.image_size == 64
    assert clip.config.vision_config.num_attention_heads == 2
    assert clip.config.text_config.eos_token_id == 49407
    assert clip.config.text_config.bos_token_id == 49406
    torch.manual_seed(1)
    images = torch.randn(3, 3, 64, 64)
    batch = tokenize(tokenizer, PROMPTS)
    with torch.no_grad():
        expected_image = model32.encode_image(images)
        expected_text = model32.encode_text(openai_token_rows(batch))
        image = features(clip.get_image_features(pixel_values=images))
        text = features(clip.get_text_features(**batch))
        logit_scale = clip.logit_scale.exp()
    torch.testing.assert_close(image, expected_image, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(text, expected_text, atol=1e-4, rtol=1e-4)
    assert logit_scale.item() == pytest.approx(1 / 0.07, rel=1e-5)


@pytest.mark.parametrize(
    "wrap",
    [
        lambda sd: {"state_dict": sd},
        lambda sd: {f"module.{key}": value for key, value in sd.items()},
        lambda sd: {"epoch": 3, "model": {f"module.{key}": value for key, value in sd.items()}},
    ],
    ids=["nested-state_dict", "module-prefix", "nested-model-module-prefix"],
)
def test_wrapped_checkpoints_are_unwrapped(wrap, tmp_path):
    state_dict = tiny_openai_clip(seed=3, vision_layers=1, text_layers=1).state_dict()
    path = tmp_path / "wrapped.pt"
    torch.save(wrap(state_dict), path)

    loaded = read_checkpoint_file(path)

    assert loaded.keys() == state_dict.keys()
    for key, tensor in state_dict.items():
        assert loaded[key].dtype == tensor.dtype
        assert torch.equal(loaded[key], tensor)
    assert is_openai_clip_state_dict(loaded)


def test_safetensors_checkpoint_is_read(tmp_path):
    state_dict = tiny_openai_clip(seed=4, vision_layers=1, text_layers=1).state_dict()
    path = tmp_path / "clip.safetensors"
    save_file({key: tensor.contiguous() for key, tensor in state_dict.items()}, str(path))

    loaded = read_checkpoint_file(path)

    assert loaded.keys() == state_dict.keys()
    assert all(torch.equal(loaded[key], state_dict[key]) for key in state_dict)


def meta_state_dict(**sizes) -> dict[str, torch.Tensor]:
    """The real key set and shapes of an OpenAI CLIP, without allocating memory."""
    with torch.device("meta"):
        return OpenAIClip(**sizes).state_dict()


@pytest.mark.parametrize(
    ("sizes", "expected"),
    [
        (
            {
                "embed": 512,
                "image_size": 224,
                "patch": 16,
                "vision_width": 768,
                "vision_layers": 12,
                "text_width": 512,
                "text_layers": 12,
            },
            {
                "width": 768,
                "layers": 12,
                "heads": 12,
                "patch": 16,
                "image": 224,
                "embed": 512,
                "text_width": 512,
                "text_heads": 8,
            },
        ),
        (
            {
                "embed": 768,
                "image_size": 336,
                "patch": 14,
                "vision_width": 1024,
                "vision_layers": 24,
                "text_width": 768,
                "text_layers": 12,
            },
            {
                "width": 1024,
                "layers": 24,
                "heads": 16,
                "patch": 14,
                "image": 336,
                "embed": 768,
                "text_width": 768,
                "text_heads": 12,
            },
        ),
    ],
    ids=["ViT-B-16", "ViT-L-14-336"],
)
def test_config_is_inferred_from_real_openai_shapes(sizes, expected):
    state_dict = meta_state_dict(**sizes)
    assert is_openai_clip_state_dict(state_dict)

    config = infer_openai_clip_config(state_dict)

    vision, text = config.vision_config, config.text_config
    assert vision.hidden_size == expected["width"]
    assert vision.num_hidden_layers == expected["layers"]
    assert vision.num_attention_heads == expected["heads"]
    assert vision.patch_size == expected["patch"]
    assert vision.image_size == expected["image"]
    assert vision.intermediate_size == 4 * expected["width"]
    assert config.projection_dim == expected["embed"]
    assert text.hidden_size == expected["text_width"]
    assert text.num_attention_heads == expected["text_heads"]
    assert text.num_hidden_layers == 12
    assert text.max_position_embeddings == 77
    assert text.vocab_size == 49408
    assert (text.bos_token_id, text.eos_token_id, text.pad_token_id) == (49406, 49407, 49407)
    assert vision.hidden_act == text.hidden_act == "quick_gelu"
    assert vision.layer_norm_eps == text.layer_norm_eps == 1e-5


class CreatesMarkerWhenUnpickled:
    """Unpickling this object opens (creates) a file: stands in for arbitrary code."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_pickle_payload_is_refused_without_running_it(zip_format, tmp_path):
    marker = tmp_path / "pwned"
    state_dict = {"visual.conv1.weight": torch.zeros(2), "x": CreatesMarkerWhenUnpickled(marker)}
    path = tmp_path / "evil.pth"
    torch.save(state_dict, path, _use_new_zipfile_serialization=zip_format)

    with pytest.raises(ModelLoadError, match="program code") as caught:
        read_checkpoint_file(path)

    assert not marker.exists()
    assert "evil.pth" in str(caught.value)
    # Control: an unrestricted load does run the payload, so the check above is meaningful.
    loaded = torch.load(path, weights_only=False)
    loaded["x"].close()
    assert marker.exists()


@pytest.mark.parametrize("name", ["clip.pth", "clip.safetensors"])
def test_truncated_file_is_refused(name, tmp_path):
    state_dict = tiny_openai_clip(seed=5, vision_layers=1, text_layers=1).state_dict()
    path = tmp_path / name
    if name.endswith(".safetensors"):
        save_file(state_dict, str(path))
    else:
        torch.save(state_dict, path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])

    with pytest.raises(ModelLoadError, match="damaged or incomplete"):
        read_checkpoint_file(path)


def test_garbage_and_missing_files_are_refused(tmp_path):
    garbage = tmp_path / "notes.pt"
    garbage.write_bytes(b"this is not a checkpoint\n" * 10)
    with pytest.raises(ModelLoadError, match="not a PyTorch checkpoint"):
        read_checkpoint_file(garbage)
    with pytest.raises(ModelLoadError, match="could not be found"):
        read_checkpoint_file(tmp_path / "absent.pth")


@pytest.mark.parametrize(
    "payload",
    [[torch.zeros(2)], {"weights": torch.zeros(2), "epoch": 3}, {}],
    ids=["list", "mixed-dict", "empty"],
)
def test_non_state_dict_payload_is_refused(payload, tmp_path):
    path = tmp_path / "other.pt"
    torch.save(payload, path)
    with pytest.raises(ModelLoadError, match="does not contain model weights"):
        read_checkpoint_file(path)


@pytest.mark.filterwarnings("ignore:`torch.jit:FutureWarning")
def test_torchscript_archive_is_refused(tmp_path):
    path = tmp_path / "ViT-B-16.pt"
    torch.jit.save(torch.jit.script(nn.Linear(2, 2)), str(path))
    with pytest.raises(ModelLoadError, match="TorchScript"):
        read_checkpoint_file(path)


def resnet_clip_state_dict() -> dict[str, torch.Tensor]:
    """Key layout of OpenAI's RN50 CLIP (ModifiedResNet visual), tiny shapes."""
    text = meta_state_dict(vision_layers=1, text_layers=1)
    visual = {
        "visual.conv1.weight": torch.empty(32, 3, 3, 3),
        "visual.bn1.weight": torch.empty(32),
        "visual.layer1.0.conv1.weight": torch.empty(64, 32, 1, 1),
        "visual.attnpool.positional_embedding": torch.empty(50, 2048),
        "visual.attnpool.c_proj.weight": torch.empty(1024, 2048),
    }
    return visual | {key: value for key, value in text.items() if not key.startswith("visual.")}


def test_resnet_clip_is_recognised_and_refused_clearly():
    state_dict = resnet_clip_state_dict()
    assert is_openai_clip_state_dict(state_dict)
    with pytest.raises(ModelLoadError, match="ResNet image encoder"):
        convert_openai_state_dict(state_dict)


def test_other_network_names_expected_and_found_keys(tmp_path):
    network = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.Flatten(), nn.Linear(8, 2))
    path = tmp_path / "classifier.pth"
    torch.save(network.state_dict(), path)
    state_dict = read_checkpoint_file(path)
    assert not is_openai_clip_state_dict(state_dict)

    with pytest.raises(ModelLoadError) as caught:
        convert_openai_state_dict(state_dict)

    message = str(caught.value)
    assert "visual.conv1.weight" in message
    assert "'0.weight'" in message


def test_hugging_face_clip_state_dict_is_not_openai_format():
    hf_keys = {"vision_model.embeddings.patch_embedding.weight": torch.empty(8, 3, 16, 16)}
    assert not is_openai_clip_state_dict(hf_keys)
    with pytest.raises(
        ModelLoadError, match=re.escape("vision_model.embeddings.patch_embedding.weight")
    ):
        infer_openai_clip_config(hf_keys)


def test_wrong_shape_or_unknown_key_fails_strict_loading():
    state_dict = tiny_openai_clip(seed=6, vision_layers=1, text_layers=1).state_dict()
    key = "transformer.resblocks.0.mlp.c_proj.weight"
    bad_shape = dict(state_dict) | {key: torch.zeros(3, 3)}
    with pytest.raises(ModelLoadError, match="unexpected shapes"):
        convert_openai_state_dict(bad_shape)
    extra = dict(state_dict) | {"visual.extra_head.weight": torch.zeros(2)}
    with pytest.raises(ModelLoadError, match=re.escape("visual.extra_head.weight")):
        convert_openai_state_dict(extra)
    missing = {k: v for k, v in state_dict.items() if k != "visual.ln_post.bias"}
    with pytest.raises(ModelLoadError, match=re.escape("post_layernorm.bias")):
        convert_openai_state_dict(missing)


def test_pickle_module_is_not_used_for_reading(monkeypatch, tmp_path):
    """The reader never falls back to an unrestricted unpickler."""
    path = tmp_path / "clip.pth"
    torch.save(tiny_openai_clip(seed=7, vision_layers=1, text_layers=1).state_dict(), path)

    def refuse(*args, **kwargs):
        raise AssertionError("unrestricted pickle.load called")

    monkeypatch.setattr(pickle, "load", refuse)
    assert is_openai_clip_state_dict(read_checkpoint_file(path))


def test_converted_model_saves_and_reloads_as_hugging_face_folder(tmp_path):
    from transformers import CLIPModel

    clip = convert_openai_state_dict(tiny_openai_clip(seed=8, vision_layers=1).state_dict())
    clip.save_pretrained(tmp_path)
    reloaded = CLIPModel.from_pretrained(tmp_path).eval()

    assert reloaded.config.text_config.eos_token_id == 49407
    images = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        expected = features(clip.get_image_features(pixel_values=images))
        actual = features(reloaded.get_image_features(pixel_values=images))
    torch.testing.assert_close(actual, expected)
