"""Test isolation: offscreen Qt, per-test user data and settings, few torch threads."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("OMP_NUM_THREADS", "2")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import pytest


@pytest.fixture(autouse=True)
def isolated_user_dirs(tmp_path_factory, monkeypatch):
    """Every test gets its own user data directory and QSettings location."""
    root = tmp_path_factory.mktemp("userdata")
    monkeypatch.setenv("MEDGRAD_USER_DATA", str(root / "data"))
    monkeypatch.setenv("MEDGRAD_SETTINGS_DIR", str(root / "settings"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(root / "config"))
    yield root


def pytest_collection_modifyitems(config, items):
    """Skip ``gpu`` tests when CUDA is not available."""
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    if has_cuda:
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_model_factory(tmp_path_factory):
    """``factory(image_size=64, patch_size=16, seed=0)`` → a cached tiny HF CLIP folder."""
    from tests.tiny_models import make_tiny_clip_folder

    made = {}

    def factory(image_size: int = 64, patch_size: int = 16, seed: int = 0):
        key = (image_size, patch_size, seed)
        if key not in made:
            folder = tmp_path_factory.mktemp(f"tiny_{image_size}_{patch_size}_{seed}") / "model"
            made[key] = make_tiny_clip_folder(
                folder, seed=seed, image_size=image_size, patch_size=patch_size
            )
        return made[key]

    return factory


@pytest.fixture(scope="session")
def tiny_model_dir(tiny_model_factory):
    """A tiny random CLIP model (64 px input, patch 16) saved as a Hugging Face folder."""
    return tiny_model_factory()
