"""``TorchClip`` (Hugging Face folders opened without transformers) against transformers'
own ``CLIPModel`` on the same folder: hidden states, embeddings and every method's maps."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch
from transformers import CLIPModel

from medgrad_desktop.errors import ModelLoadError
from medgrad_desktop.explain import compute_evidence, load_model
from medgrad_desktop.explain.clip_torch import TorchClip
from medgrad_desktop.explain.loading import save_model_folder
from medgrad_desktop.explain.tokenizer import ClipTokenizer, load_openai_tokenizer
from tests.tiny_models import tiny_clip_config

PROMPTS = ["melanoma", "a benign melanocytic nevus with a regular pigment network", "x " * 90]
METHODS = ("gradcam", "gradeclip", "medgrad", "legrad")

# Each case changes what a re-implementation could get wrong: the activation, the layer-norm
# epsilon, the end-token pooling rule (old configs: the highest id), unequal tower sizes.
CASES = {
    "openai-layout": {},
    "gelu-legacy-end-id": {"hidden_act": "gelu", "eos_token_id": 2, "layer_norm_eps": 1e-6},
    "tanh-gelu-wide-vision": {"hidden_act": "gelu_pytorch_tanh", "vision_hidden": 48},
}


def _folder(tmp_path, hidden_act="quick_gelu", eos_token_id=None, layer_norm_eps=1e-5, **sizes):
    config = tiny_clip_config(image_size=64, patch_size=16)
    for tower in (config.text_config, config.vision_config):
        tower.hidden_act, tower.layer_norm_eps = hidden_act, layer_norm_eps
    if eos_token_id is not None:
        config.text_config.eos_token_id = eos_token_id
    if "vision_hidden" in sizes:
        config.vision_config.hidden_size = sizes["vision_hidden"]
        config.vision_config.num_attention_heads = 3
    torch.manual_seed(1)
    model = CLIPModel(config).eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if parameter.ndim >= 2 and "embedding" not in name:
                parameter.normal_(0.0, 0.2)
            elif name.endswith("bias") or "layer_norm" in name or "layrnorm" in name:
                parameter.normal_(0.0 if name.endswith("bias") else 1.0, 0.1)
    return save_model_folder(model, load_openai_tokenizer(), tmp_path / "clip"), model


@pytest.fixture(params=list(CASES), ids=list(CASES))
def opened(request, tmp_path):
    folder, reference = _folder(tmp_path, **CASES[request.param])
    return load_model(folder), reference


def test_a_hugging_face_folder_opens_as_torch_clip_with_its_own_tokenizer(opened):
    bundle, _ = opened
    assert isinstance(bundle.model, TorchClip)
    assert isinstance(bundle.tokenizer, ClipTokenizer)


def test_hidden_states_and_embeddings_equal_transformers(opened):
    bundle, reference = opened
    model = bundle.model
    pixels = torch.randn(2, 3, 64, 64)
    tokens = bundle.tokenize(PROMPTS)
    assert tokens["attention_mask"][0].sum() < tokens["attention_mask"].shape[1]  # padded rows
    with torch.no_grad():
        vision, vision_ref = model.vision_model(pixels), reference.vision_model(pixel_values=pixels)
        text, text_ref = model.text_model(**tokens), reference.text_model(**tokens)
        image = model.visual_projection(vision.pooler_output)
        image_ref = reference.visual_projection(vision_ref.pooler_output)
        embeds = model.text_projection(text.pooler_output)
        embeds_ref = reference.text_projection(text_ref.pooler_output)
    close = {"atol": 2e-5, "rtol": 1e-4}
    torch.testing.assert_close(vision.last_hidden_state, vision_ref.last_hidden_state, **close)
    torch.testing.assert_close(image, image_ref, **close)
    torch.testing.assert_close(embeds, embeds_ref, **close)
    real = tokens["attention_mask"].bool()  # pad positions are never read
    torch.testing.assert_close(
        text.last_hidden_state[real], text_ref.last_hidden_state[real], **close
    )
    assert bundle.logit_scale == pytest.approx(float(reference.logit_scale.detach().exp()))


@pytest.mark.parametrize("geometry", ["square", "aspect"])
def test_maps_equal_those_of_transformers_model(opened, geometry):
    bundle, reference = opened
    image = np.random.default_rng(5).integers(0, 255, (90, 150, 3), dtype=np.uint8)
    texts = bundle.encode_text(PROMPTS)
    ours = compute_evidence(bundle, image, texts, METHODS, geometry=geometry)
    theirs = compute_evidence(
        bundle.with_model(reference), image, texts, METHODS, geometry=geometry
    )
    np.testing.assert_allclose(ours.similarity, theirs.similarity, atol=1e-5)
    for method in METHODS:
        assert np.ptp(theirs.patch_maps[method]) > 0, method  # a map, not all zeros
        np.testing.assert_allclose(
            ours.patch_maps[method], theirs.patch_maps[method], rtol=1e-4, atol=1e-6
        )


def test_to_transformers_keeps_every_weight(opened):
    bundle, reference = opened
    converted = bundle.model.to_transformers()
    assert isinstance(converted, CLIPModel)
    expected = reference.state_dict()
    got = converted.state_dict()
    assert set(got) == set(expected)
    for key, value in expected.items():
        assert torch.equal(got[key], value), key


def test_weights_with_an_unknown_entry_are_refused(tmp_path):
    folder, reference = _folder(tmp_path)
    from safetensors.torch import save_file

    state = {k: v.contiguous() for k, v in reference.state_dict().items()}
    state["vision_model.encoder.layers.0.self_attn.extra.weight"] = torch.zeros(2)
    save_file(state, str(folder / "model.safetensors"))
    with pytest.raises(ModelLoadError, match="do not match its CLIP settings") as raised:
        load_model(folder)
    assert "extra" in raised.value.details


def test_an_activation_it_cannot_run_is_named(tmp_path):
    folder, _ = _folder(tmp_path)
    config = json.loads((folder / "config.json").read_text())
    config["vision_config"]["hidden_act"] = "swiglu_unknown"
    (folder / "config.json").write_text(json.dumps(config))
    with pytest.raises(ModelLoadError, match="activation 'swiglu_unknown'"):
        load_model(folder)


def test_damaged_tokenizer_json_is_reported(tmp_path):
    folder, _ = _folder(tmp_path)
    (folder / "tokenizer.json").write_text("{ not json")
    with pytest.raises(ModelLoadError, match="tokenizer files are damaged"):
        load_model(folder)


def _imports_while_explaining(source: str) -> str:
    """Which heavy modules a fresh process imports to open ``source`` and explain an image."""
    script = textwrap.dedent(
        f"""
        import sys
        import numpy as np
        from medgrad_desktop.explain import compute_evidence, load_model
        bundle = load_model({source!r}, device="cpu")
        image = np.random.default_rng(0).integers(0, 255, (120, 100, 3), dtype=np.uint8)
        texts = bundle.encode_text(["melanoma", "nevus"])
        evidence = compute_evidence(bundle, image, texts, ("gradcam", "gradeclip", "medgrad"))
        assert all(np.ptp(m) > 0 for m in evidence.patch_maps.values())
        print(sorted(m for m in ("transformers", "torch._dynamo") if m in sys.modules))
        """
    )
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "OMP_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_demo_is_explained_without_importing_transformers_or_the_compiler():
    """Importing transformers' CLIP (≈3 s on two cores) or torch's compiler (≈1.2 s, which
    functorch's pull-back imports) before the first map would break the start-up budget."""
    assert _imports_while_explaining("demo") == "[]"


@pytest.mark.parametrize("tokenizer_files", ["own tokenizer.json", "none (bundled)"])
def test_a_dermlip_style_open_clip_folder_needs_no_transformers_either(tmp_path, tokenizer_files):
    from tests.open_clip_reference import native_clip, write_native_folder

    folder = write_native_folder(tmp_path / "DermLIP", native_clip(seed=1), False)
    if tokenizer_files.startswith("none"):
        for name in ("tokenizer.json", "vocab.json", "merges.txt"):
            (folder / name).unlink(missing_ok=True)
    assert _imports_while_explaining(str(folder)) == "[]"
