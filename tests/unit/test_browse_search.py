"""Folder embeddings, the on-disk cache, text and image search, and the ``search`` CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from medgrad_desktop.browse.embedding_cache import EmbeddingCache
from medgrad_desktop.browse.folder_embeddings import (
    EmbeddingCancelled,
    embed_folder,
    list_folder_images,
)
from medgrad_desktop.browse.predictions import predict_classes, sorted_rows
from medgrad_desktop.browse.ranking import rank_by_text, rank_similar
from medgrad_desktop.cli import main
from medgrad_desktop.explain import load_model
from medgrad_desktop.explain.prompt_sets import prompt_set_from_mapping

CLIP_MEAN = np.array([0.48145466, 0.4578275, 0.40821073])
CLIP_STD = np.array([0.26862954, 0.26130258, 0.27577711])


@pytest.fixture(scope="module")
def bundle(tiny_model_dir):
    return load_model(tiny_model_dir, device="cpu")


def _write_images(folder: Path, count: int, seed: int = 0, sub: str = "") -> list[str]:
    rng = np.random.default_rng(seed)
    (folder / sub).mkdir(parents=True, exist_ok=True)
    names = []
    for index in range(count):
        size = (int(rng.integers(40, 90)), int(rng.integers(40, 90)))
        pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
        name = f"{sub}/img{index:02d}.png" if sub else f"img{index:02d}.png"
        Image.fromarray(pixels).save(folder / name)
        names.append(name)
    return names


def _transformers_model(bundle):
    from transformers import CLIPModel

    return CLIPModel.from_pretrained(bundle.source).eval()


def _direct_image_embeddings(bundle, folder: Path, names: list[str]) -> np.ndarray:
    """Independent path: PIL bicubic resize, CLIP normalisation, transformers'
    get_image_features on the same folder."""
    side = bundle.image_size
    arrays = []
    for name in names:
        image = Image.open(folder / name).convert("RGB").resize((side, side), Image.BICUBIC)
        arrays.append((np.asarray(image, np.float64) / 255.0 - CLIP_MEAN) / CLIP_STD)
    pixels = torch.tensor(np.stack(arrays), dtype=torch.float32).permute(0, 3, 1, 2)
    with torch.no_grad():
        features = _transformers_model(bundle).get_image_features(pixel_values=pixels)
    features = features if isinstance(features, torch.Tensor) else features.pooler_output
    features = features.numpy().astype(np.float64)
    return features / np.linalg.norm(features, axis=1, keepdims=True)


def _direct_text_embedding(bundle, text: str) -> np.ndarray:
    with torch.no_grad():
        features = _transformers_model(bundle).get_text_features(**bundle.tokenize([text]))
    features = features if isinstance(features, torch.Tensor) else features.pooler_output
    vector = features[0].numpy().astype(np.float64)
    return vector / np.linalg.norm(vector)


def test_text_ranking_equals_direct_cosine(tmp_path, bundle):
    names = _write_images(tmp_path, 7)
    embeddings = embed_folder(bundle, tmp_path, batch_size=3)
    ranked = rank_by_text(bundle, embeddings, "blue-whitish veil")
    expected = _direct_image_embeddings(bundle, tmp_path, names) @ _direct_text_embedding(
        bundle, "blue-whitish veil"
    )
    order = np.argsort(-expected, kind="stable")
    assert [r.name for r in ranked] == [names[i] for i in order]
    np.testing.assert_allclose([r.score for r in ranked], expected[order], atol=1e-5)


def test_find_similar_ranks_by_image_cosine(tmp_path, bundle):
    names = _write_images(tmp_path, 6, seed=3)
    embeddings = embed_folder(bundle, tmp_path)
    direct = _direct_image_embeddings(bundle, tmp_path, names)
    ranked = rank_similar(embeddings, names[2])
    expected = direct @ direct[2]
    assert ranked[0].name == names[2] and ranked[0].score == pytest.approx(1.0, abs=1e-5)
    assert [r.name for r in ranked] == [names[i] for i in np.argsort(-expected, kind="stable")]


def test_cache_reuses_vectors_and_notices_changed_files(tmp_path, bundle):
    folder = tmp_path / "images"
    names = _write_images(folder, 5)
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    calls = []

    def counting(call):
        calls.append(1)
        return call()

    first = embed_folder(bundle, folder, cache=cache, batch_size=2, run_model=counting)
    assert len(calls) == 3 and cache.count(bundle.model_id) == 5
    calls.clear()
    again = embed_folder(bundle, folder, cache=cache, run_model=counting)
    assert calls == [] and np.array_equal(again.vectors, first.vectors)
    Image.fromarray(np.zeros((50, 60, 3), np.uint8)).save(folder / names[1])
    changed = embed_folder(bundle, folder, cache=cache, run_model=counting)
    assert len(calls) == 1
    row = changed.row_of(names[1])
    assert not np.allclose(changed.vectors[row], first.vectors[row])
    np.testing.assert_array_equal(changed.vectors[0], first.vectors[0])


def test_unreadable_images_are_listed_not_fatal(tmp_path, bundle):
    names = _write_images(tmp_path, 3)
    (tmp_path / "broken.png").write_bytes(b"not a png at all")
    (tmp_path / "empty.jpg").write_bytes(b"")
    embeddings = embed_folder(bundle, tmp_path)
    assert embeddings.names == names
    assert set(embeddings.failed) == {"broken.png", "empty.jpg"}
    assert all("image" in message for message in embeddings.failed.values())


def test_cancel_stops_between_batches_and_keeps_finished_work(tmp_path, bundle):
    _write_images(tmp_path / "f", 6)
    cache = EmbeddingCache(tmp_path / "cache.sqlite")
    seen = []
    with pytest.raises(EmbeddingCancelled):
        embed_folder(
            bundle,
            tmp_path / "f",
            cache=cache,
            batch_size=2,
            progress=lambda done, total: seen.append((done, total)),
            should_stop=lambda: len(seen) >= 2,
        )
    assert seen == [(0, 6), (2, 6)]
    assert cache.count(bundle.model_id) == 2


def test_damaged_cache_file_is_replaced(tmp_path, bundle):
    path = tmp_path / "cache.sqlite"
    path.write_bytes(b"garbage" * 100)
    _write_images(tmp_path / "f", 2)
    embeddings = embed_folder(bundle, tmp_path / "f", cache=EmbeddingCache(path))
    assert len(embeddings) == 2 and (tmp_path / "cache.damaged").exists()


def test_predictions_and_sorting(tmp_path, bundle):
    names = _write_images(tmp_path, 8, seed=5)
    embeddings = embed_folder(bundle, tmp_path)
    prompt_set = prompt_set_from_mapping(
        {"name": "t", "classes": ["melanoma", {"label": "nevus", "prompts": ["nevus", "mole"]}]}
    )
    predictions = predict_classes(bundle, embeddings, prompt_set)
    direct = _direct_image_embeddings(bundle, tmp_path, names)
    texts = np.stack(
        [
            _direct_text_embedding(bundle, "melanoma"),
            _norm(_direct_text_embedding(bundle, "nevus") + _direct_text_embedding(bundle, "mole")),
        ]
    )
    logits = bundle.logit_scale * direct @ texts.T
    expected = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    np.testing.assert_allclose(predictions.probabilities, expected, atol=1e-4)
    by_probability = sorted_rows(names, "probability", predictions)
    assert list(predictions.confidence[by_probability]) == sorted(
        predictions.confidence, reverse=True
    )
    only = sorted_rows(names, "name", predictions, only_class=1, min_probability=0.5)
    assert only == [i for i in range(8) if expected[i].argmax() == 1 and expected[i].max() >= 0.5]


def _norm(vector):
    return vector / np.linalg.norm(vector)


def test_sorted_rows_by_class_groups_then_confidence():
    from medgrad_desktop.browse.predictions import Predictions

    probabilities = np.array([[0.6, 0.4], [0.2, 0.8], [0.9, 0.1], [0.45, 0.55]], np.float32)
    predictions = Predictions(["a", "b", "c", "d"], ["x", "y"], probabilities)
    assert sorted_rows(predictions.names, "predicted class", predictions) == [2, 0, 1, 3]
    similarity = np.array([0.1, 0.3, -0.2, 0.3])
    assert sorted_rows(predictions.names, "similarity", similarity=similarity) == [1, 3, 0, 2]


def test_list_folder_images_includes_class_subfolders(tmp_path):
    _write_images(tmp_path, 1)
    _write_images(tmp_path, 2, sub="melanoma")
    (tmp_path / ".hidden").mkdir()
    assert list_folder_images(tmp_path, include_subfolders=True) == [
        "img00.png",
        "melanoma/img00.png",
        "melanoma/img01.png",
    ]


def test_search_cli_writes_ranked_json(tmp_path, tiny_model_dir, bundle, capsys):
    folder = tmp_path / "images"
    names = _write_images(folder, 4) + _write_images(folder, 2, seed=9, sub="nevus")
    out = tmp_path / "out" / "ranking.json"
    code = main(
        ["search", str(folder), "--model", str(tiny_model_dir), "--query", "radial streaming",
         "--top", "5", "--json", str(out)]
    )  # fmt: skip
    assert code == 0
    rows = json.loads(out.read_text())
    expected = _direct_image_embeddings(bundle, folder, names) @ _direct_text_embedding(
        bundle, "radial streaming"
    )
    order = np.argsort(-expected, kind="stable")[:5]
    assert [row["image"] for row in rows] == [names[i] for i in order]
    np.testing.assert_allclose([row["score"] for row in rows], expected[order], atol=1e-5)
    assert rows[0]["image"] in capsys.readouterr().out


def test_search_cli_plain_errors(tmp_path, tiny_model_dir, capsys):
    assert main(["search", str(tmp_path / "nope"), "--query", "x"]) == 2
    assert "does not exist" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    args = ["search", str(tmp_path / "empty"), "--model", str(tiny_model_dir), "--query", "x"]
    assert main(args) == 2
    assert "contains no images" in capsys.readouterr().err
    _write_images(tmp_path / "ok", 1)
    args = ["search", str(tmp_path / "ok"), "--model", str(tiny_model_dir), "--query", "  "]
    assert main(args) == 2
    assert "type some words" in capsys.readouterr().err


def test_search_cli_prompt_label_uses_its_synonyms(tmp_path, tiny_model_dir, bundle):
    names = _write_images(tmp_path / "images", 3, seed=4)
    prompts = tmp_path / "set.yaml"
    prompts.write_text(
        "name: t\nclasses:\n  - label: veil\n    prompts: [blue veil, whitish veil]\n", "utf-8"
    )
    out = tmp_path / "r.json"
    args = ["search", str(tmp_path / "images"), "--model", str(tiny_model_dir),
            "--prompts", str(prompts), "--query", "Veil", "--json", str(out)]  # fmt: skip
    assert main(args) == 0
    query = _norm(
        _direct_text_embedding(bundle, "blue veil") + _direct_text_embedding(bundle, "whitish veil")
    )
    expected = _direct_image_embeddings(bundle, tmp_path / "images", names) @ query
    rows = json.loads(out.read_text())
    assert [r["image"] for r in rows] == [names[i] for i in np.argsort(-expected, kind="stable")]
    np.testing.assert_allclose([r["score"] for r in rows], np.sort(expected)[::-1], atol=1e-5)
