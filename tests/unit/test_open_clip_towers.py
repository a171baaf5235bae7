"""open_clip models through the tower seam: every method, variant and geometry equals plain
autograd through the same tower (1e-5), the tower's pure functions compose to the model's own
forward, and ``load_model`` embeddings equal the independent references (1e-4)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from medgrad_desktop.explain import compute_evidence, explain, load_model
from tests.open_clip_reference import (
    native_clip,
    timm_image_embedding,
    tower_reference_maps,
    write_biomedclip_folder,
    write_native_folder,
)

PROMPTS = ["melanoma", "a blue white veil with dots", "common nevus", "regression areas"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    root = tmp_path_factory.mktemp("open_clip_towers")
    return {
        "biomedclip": write_biomedclip_folder(root / "BiomedCLIP"),
        "dermlip": write_native_folder(root / "DermLIP", native_clip(seed=1), False),
        "quickgelu": write_native_folder(
            root / "QuickGELU", native_clip(seed=2, quick_gelu=True), True, "bin"
        ),
    }


@pytest.mark.parametrize("family", ["biomedclip", "dermlip", "quickgelu"])
@pytest.mark.parametrize("variant", ["model", "zhao2024"])
@pytest.mark.parametrize("geometry", ["square", "aspect", "native"])
def test_maps_equal_plain_autograd_through_the_tower(folders, family, variant, geometry):
    bundle = load_model(folders[family], device="cpu")
    image = np.random.default_rng(7).integers(0, 256, (45, 70, 3), dtype=np.uint8)
    texts = bundle.encode_text(PROMPTS)
    fast = compute_evidence(bundle, image, texts, variant=variant, geometry=geometry)
    similarity, slow = tower_reference_maps(bundle, image, texts, variant, geometry)
    np.testing.assert_allclose(fast.similarity, similarity, atol=1e-5)
    for method, expected in slow.items():
        scale = max(float(np.abs(expected).max()), 1e-12)
        assert fast.patch_maps[method].shape == expected.shape
        np.testing.assert_allclose(fast.patch_maps[method] / scale, expected / scale, atol=1e-5)
        assert expected.max() > 0, method  # not a degenerate all-zero comparison


@pytest.mark.parametrize("family", ["biomedclip", "dermlip", "quickgelu"])
def test_tower_functions_compose_to_the_models_forward(folders, family):
    bundle = load_model(folders[family], device="cpu")
    tower = bundle.vision_tower
    pixels = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        x = tower.trunk(pixels)
        o = tower.attention(*tower.qkv(x), tower.num_heads)
        composed = tower.embed(tower.block_output(x, o)[:, :1])
        direct = torch.nn.functional.normalize(bundle.model.encode_image(pixels), dim=-1)
    assert torch.allclose(composed, direct, atol=1e-5)
    assert torch.allclose(bundle.encode_image(pixels), direct, atol=1e-5)


def test_load_model_embeddings_equal_the_reference_and_explain_runs(folders):
    bundle = load_model(folders["biomedclip"], device="cpu")
    assert bundle.description == (
        "BiomedCLIP-style open_clip model: ViT (128 wide, 2 layers)/8 image tower, "
        "BERT text tower, 32 tokens"
    )
    state = torch.load(folders["biomedclip"] / "open_clip_pytorch_model.bin", weights_only=True)
    image = np.random.default_rng(1).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    pixels = bundle.preprocess(image)
    expected = torch.nn.functional.normalize(timm_image_embedding(state, pixels, 2), dim=-1)
    assert torch.allclose(bundle.encode_image(image), expected, atol=1e-4)
    result = explain(bundle, image, PROMPTS[:2])
    assert result.maps["medgrad"].shape == (2, 40, 40)
    assert np.isclose(result.probability.sum(), 1.0, atol=1e-5)


@pytest.mark.parametrize("family", ["biomedclip", "dermlip"])
def test_cascading_randomisation_covers_the_whole_image_tower(folders, family):
    from medgrad_desktop.explain.evaluation.sanity import cascading_randomisation

    bundle = load_model(folders[family], device="cpu")
    stages = bundle.model.randomisation_stages()
    covered = set()
    for _name, members in stages:
        for member in members:
            params = [member] if isinstance(member, torch.nn.Parameter) else member.parameters()
            covered |= {id(p) for p in params}
    assert covered == {id(p) for p in bundle.model.visual.parameters()}
    image = np.random.default_rng(2).integers(0, 256, (32, 32, 3), dtype=np.uint8)

    def maps(model_bundle):
        result = explain(model_bundle, image, ["a lesion", "a nevus"], methods=("gradcam",))
        return {"gradcam": result.maps["gradcam"][0]}

    result = cascading_randomisation(bundle, maps, seed=1)
    assert result["stages"] == ["projection", "layer 2", "layer 1", "embeddings"]
    assert result["gradcam"][-1]["ssim"] < 0.99


def test_legrad_refuses_open_clip_models_with_a_plain_message(folders):
    from medgrad_desktop.errors import ComputeError
    from medgrad_desktop.explain.legrad import legrad_scores

    bundle = load_model(folders["dermlip"], device="cpu")
    with pytest.raises(ComputeError, match="Hugging Face or OpenAI format only"):
        legrad_scores(bundle.vision_tower, torch.zeros(1, 3, 32, 32), bundle.encode_text(["a"]))
