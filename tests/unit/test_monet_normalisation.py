"""MONET-style Hugging Face folders state ImageNet mean/std in ``preprocessor_config.json``:
that normalisation is used by the viewer/CLI path (``explain``), training and evaluation
(``ClipPairDataset``) and survives fine-tuning."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from medgrad_desktop.explain import explain, load_model
from medgrad_desktop.explain.bundle import CLIP_MEAN, CLIP_STD
from medgrad_desktop.explain.images import resize_whole
from tests.tiny_models import make_tiny_clip_folder

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
MONET_PREPROCESSOR = {  # as suinleelab/monet ships it (older CLIPImageProcessor format)
    "crop_size": 64,
    "do_center_crop": True,
    "do_normalize": True,
    "do_resize": True,
    "feature_extractor_type": "CLIPFeatureExtractor",
    "image_mean": list(IMAGENET_MEAN),
    "image_std": list(IMAGENET_STD),
    "resample": 3,
    "size": 64,
}


@pytest.fixture(scope="module")
def monet(tmp_path_factory):
    folder = make_tiny_clip_folder(tmp_path_factory.mktemp("monet") / "MONET", seed=4)
    (folder / "preprocessor_config.json").write_text(json.dumps(MONET_PREPROCESSOR))
    return folder


@pytest.fixture(scope="module")
def lesion():
    rng = np.random.default_rng(0)
    return (rng.random((50, 70, 3)) * 255).astype(np.uint8)


def _normalised(image: np.ndarray, mean, std) -> torch.Tensor:
    """Independent preprocessing: whole-image bicubic resize, /255, (x - mean) / std."""
    pixels = torch.from_numpy(np.array(resize_whole(image, 64))).permute(2, 0, 1).float() / 255.0
    return ((pixels - torch.tensor(mean)[:, None, None]) / torch.tensor(std)[:, None, None])[None]


def test_the_stated_normalisation_is_read_and_shown(monet):
    bundle = load_model(monet, device="cpu")
    assert bundle.image_mean == pytest.approx(IMAGENET_MEAN)
    assert bundle.image_std == pytest.approx(IMAGENET_STD)
    assert bundle.description.endswith("ImageNet mean/std")


def test_explain_uses_imagenet_normalisation(monet, lesion):
    bundle = load_model(monet, device="cpu")
    prompts = ["melanoma", "common nevus"]
    result = explain(bundle, lesion, prompts, methods=("gradcam",))
    text = bundle.encode_text(prompts)
    model = bundle.model
    for mean, std, equal in ((IMAGENET_MEAN, IMAGENET_STD, True), (CLIP_MEAN, CLIP_STD, False)):
        with torch.no_grad():
            vision = model.vision_model(pixel_values=_normalised(lesion, mean, std))
            image = torch.nn.functional.normalize(model.visual_projection(vision.pooler_output))
        similarity = (image @ text.T)[0].numpy()
        assert np.allclose(result.similarity, similarity, atol=1e-5) == equal


def test_training_and_evaluation_normalise_like_the_viewer(monet, lesion, tmp_path):
    from training.config import TrainConfig
    from training.data import Sample
    from training.dataset import ClipPairDataset
    from training.model_setup import build_model, save_checkpoint

    path = tmp_path / "lesion.png"
    Image.fromarray(lesion).save(path)
    setup = build_model(TrainConfig(base=str(monet), method="full"))
    assert setup.image_mean == pytest.approx(IMAGENET_MEAN)
    sample = Sample(image=path, text="melanoma", label="melanoma", group="p1")
    dataset = ClipPairDataset(
        [sample], ["melanoma"], setup.image_size, setup.image_mean, setup.image_std, train=False
    )
    pixels, _text, _label = dataset[0]
    expected = _normalised(lesion, IMAGENET_MEAN, IMAGENET_STD)[0]
    assert torch.allclose(pixels, expected, atol=1e-5)
    saved = load_model(save_checkpoint(setup, tmp_path / "best"), device="cpu")
    assert saved.image_mean == pytest.approx(IMAGENET_MEAN)
    assert saved.image_std == pytest.approx(IMAGENET_STD)
