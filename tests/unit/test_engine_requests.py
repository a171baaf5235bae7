"""ExplainEngine with a real tiny CLIP model and real image files: views, supersession,
prefetch, radius and prompt changes from cached evidence, bad images."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from medgrad_desktop.engine import model_runner, rendering
from medgrad_desktop.engine.api import ModelInfo
from medgrad_desktop.engine.decoding import decode_image
from medgrad_desktop.engine.engine import ExplainEngine
from medgrad_desktop.errors import ComputeError, ImageLoadError, ModelLoadError, PromptSetError
from medgrad_desktop.explain import METHODS, explain, load_model, render_maps
from medgrad_desktop.explain.images import image_content_hash
from tests.engine_support import (
    PROMPTS,
    RecordingListener,
    tiny_model_folder,
    write_corrupt_image,
    write_images,
)

MODEL_SIDE = 64


@pytest.fixture(scope="module")
def model_dir():
    return tiny_model_folder()


@pytest.fixture(scope="module")
def bundle(model_dir):
    """One loaded model shared by the engines of this module (loading is the slow part)."""
    return load_model(model_dir, "cpu")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("images"), 7)


def start_engine(bundle, **options) -> tuple[ExplainEngine, RecordingListener]:
    listener = RecordingListener()
    engine = ExplainEngine(listener, cache_bytes=64 * 1024 * 1024, **options)
    engine.load_model(bundle)
    info = listener.wait_for("model_loaded")[0]
    assert isinstance(info, ModelInfo) and info.device == "cpu"
    assert info.image_size == MODEL_SIDE
    engine.set_prompts(PROMPTS)
    return engine, listener


@pytest.fixture
def engine(bundle):
    engine, listener = start_engine(bundle)
    yield engine, listener
    engine.shutdown()


@pytest.fixture
def gated_model(monkeypatch):
    """Make every model run wait until ``gate`` is set; ``started`` tells when one began."""
    gate, started, calls = threading.Event(), threading.Event(), []
    real = model_runner.compute_evidence

    def gated(bundle, image, texts, methods, **options):
        calls.append(image_content_hash(image))
        started.set()
        assert gate.wait(15)
        return real(bundle, image, texts, methods, **options)

    monkeypatch.setattr(model_runner, "compute_evidence", gated)
    return gate, started, calls


def test_view_gives_image_evidence_and_maps_equal_to_the_science_api(engine, images, model_dir):
    """The engine's evidence equals ``explain`` with a separately loaded copy of the model."""
    engine, listener = engine
    request = engine.request_view(images[0], prompt_index=1, entropy_radius=5)
    _, result = listener.wait_for("maps_ready", request)
    _, image = listener.wait_for("image_loaded", request)
    _, path, evidence = listener.wait_for("evidence_ready", request)

    kinds = [k for k in listener.kinds() if k in ("image_loaded", "evidence_ready", "maps_ready")]
    assert kinds == ["image_loaded", "evidence_ready", "maps_ready"]
    assert path == images[0] and image.rgb.shape == (80, 96, 3)
    assert image.original_size == (96, 80)
    assert engine.model_runs == 1
    reference = explain(load_model(model_dir, "cpu"), str(images[0]), PROMPTS)
    np.testing.assert_allclose(evidence.similarity, reference.similarity, atol=1e-5)
    for method in METHODS:
        np.testing.assert_allclose(
            evidence.patch_maps[method], reference.patch_maps[method], rtol=1e-4, atol=1e-6
        )
    expected = render_maps(evidence, image.rgb, MODEL_SIDE, 5)
    assert set(result.maps) == set(METHODS) and result.prompt_index == 1
    for method in METHODS:
        shown = result.maps[method]
        assert shown.shape == (80, 96) and shown.dtype == np.float32
        assert shown.min() >= 0.0 and shown.max() <= 1.0
        np.testing.assert_allclose(shown, expected[method][1], atol=1e-6)
        assert result.positive[method] == bool(np.any(shown > 0))
    assert engine.wait_until_idle(10) and engine.queue_length() == 0
    assert listener.of("queue_changed")[-1] == (0,)


def test_latest_view_wins_and_superseded_views_never_run_the_model(engine, images, gated_model):
    engine, listener = engine
    gate, started, calls = gated_model
    running = engine.request_view(images[0])
    assert started.wait(10)  # the model thread is now busy with the first image
    requests = [engine.request_view(path) for path in images[1:6]]
    assert engine.queue_length() >= 1
    gate.set()
    listener.wait_for("maps_ready", requests[-1])
    assert engine.wait_until_idle(10)

    assert listener.of("evidence_ready", requests[-1])
    for superseded in [running, *requests[:-1]]:
        assert not listener.of("evidence_ready", superseded)
        assert not listener.of("maps_ready", superseded)
    assert engine.model_runs == 2  # the run in progress finished; the queued ones were dropped
    assert len(calls) == 2
    assert engine.queue_length() == 0


def test_prefetch_fills_the_cache_so_the_next_view_does_not_run_the_model(engine, images):
    engine, listener = engine
    engine.prefetch([images[1], images[2]])
    assert engine.wait_until_idle(15)
    assert engine.model_runs == 2 and len(engine.evidence_cache) == 2
    assert not listener.of("evidence_ready") and not listener.of("maps_ready")

    request = engine.request_view(images[2], 0, 5)
    listener.wait_for("maps_ready", request)
    assert listener.of("evidence_ready", request)
    assert engine.model_runs == 2


def test_prefetch_waits_while_a_view_request_is_on_its_way(engine, images, bundle, gated_model):
    engine, listener = engine
    gate, started, calls = gated_model
    engine.request_view(images[0])
    assert started.wait(10)
    engine.prefetch([images[1], images[2]])
    view = engine.request_view(images[3])
    listener.wait_for("image_loaded", view)
    gate.set()
    listener.wait_for("maps_ready", view)
    assert engine.wait_until_idle(15)

    order = {image_content_hash(decode_image(p, bundle).model_input): p for p in images[:4]}
    assert [order[h] for h in calls] == [images[0], images[3], images[1], images[2]]


def test_radius_change_rerenders_medgrad_only_without_running_the_model(engine, images):
    engine, listener = engine
    first = engine.request_view(images[0], 0, 5)
    _, before = listener.wait_for("maps_ready", first)
    _, image = listener.wait_for("image_loaded", first)
    _, _, evidence = listener.wait_for("evidence_ready", first)
    runs = engine.model_runs

    second = engine.request_maps(images[0], 0, 9)
    _, after = listener.wait_for("maps_ready", second)
    assert engine.model_runs == runs
    assert not listener.of("evidence_ready", second) and not listener.of("image_loaded", second)
    assert after.entropy_radius == 9
    for method in ("gradcam", "gradeclip"):
        assert np.array_equal(after.maps[method], before.maps[method])
    assert before.positive["medgrad"]
    assert not np.allclose(after.maps["medgrad"], before.maps["medgrad"])
    expected = render_maps(evidence, image.rgb, MODEL_SIDE, 9)["medgrad"][0]
    np.testing.assert_allclose(after.maps["medgrad"], expected, atol=1e-6)


def test_entropy_weights_of_all_slider_radii_are_precomputed_after_a_view(engine, images):
    engine, listener = engine
    request = engine.request_view(images[0], 0, 7)
    listener.wait_for("maps_ready", request)
    assert engine.wait_until_idle(15)
    entropy_keys = [k for k in engine.render_cache.keys_oldest_first() if k[0] == "entropy"]
    assert sorted(k[-1] for k in entropy_keys) == list(range(1, 26))
    hits = engine.render_cache.hits
    for radius in (1, 13, 25):
        listener.wait_for("maps_ready", engine.request_maps(images[0], 0, radius))
    assert engine.render_cache.hits >= hits + 3 * 3  # entropy, upsampled evidence, two maps


def test_prompt_switch_uses_cached_evidence(engine, images):
    engine, listener = engine
    first = engine.request_view(images[0], 0, 5)
    _, before = listener.wait_for("maps_ready", first)
    _, image = listener.wait_for("image_loaded", first)
    _, _, evidence = listener.wait_for("evidence_ready", first)

    switched = engine.request_maps(images[0], 2, 5)
    _, after = listener.wait_for("maps_ready", switched)
    assert engine.model_runs == 1 and after.prompt_index == 2
    expected = render_maps(evidence, image.rgb, MODEL_SIDE, 5)
    for method in METHODS:
        np.testing.assert_allclose(after.maps[method], expected[method][2], atol=1e-6)
    assert not np.allclose(after.maps["gradcam"], before.maps["gradcam"])


def test_newer_maps_request_replaces_a_queued_one(bundle, images, monkeypatch):
    engine, listener = start_engine(bundle, precompute_radii=(), cpu_workers=1)
    try:
        listener.wait_for("maps_ready", engine.request_view(images[0], 0, 5))
        assert engine.wait_until_idle(10)
        gate, computed = threading.Event(), []
        real = rendering.entropy_weight

        def slow_entropy(image, radius, side, **options):
            computed.append(radius)
            assert gate.wait(10)
            return real(image, radius, side, **options)

        monkeypatch.setattr(rendering, "entropy_weight", slow_entropy)
        requests = [engine.request_maps(images[0], 0, radius) for radius in range(11, 21)]
        gate.set()
        listener.wait_for("maps_ready", requests[-1])
        assert engine.wait_until_idle(10)
        assert computed[-1] == 20 and len(computed) <= 2  # 11 may have started; 12–19 dropped
        assert [args[0] for args in listener.of("maps_ready")][1:] == [requests[-1]]
    finally:
        engine.shutdown()


def test_bad_or_missing_image_fails_with_image_load_error_and_the_engine_goes_on(
    engine, images, tmp_path
):
    engine, listener = engine
    broken = write_corrupt_image(tmp_path)
    for path in (broken, tmp_path / "gone.png"):
        request = engine.request_view(path)
        _, failed_path, error = listener.wait_for("failed", request)
        assert failed_path == path and isinstance(error, ImageLoadError)
        assert path.name in error.message
        assert not listener.of("evidence_ready", request)
    request = engine.request_view(images[0])
    listener.wait_for("maps_ready", request)
    assert engine.queue_length() == 0 or engine.wait_until_idle(10)


def test_large_image_is_shown_at_display_size(engine, tmp_path):
    engine, listener = engine
    (path,) = write_images(tmp_path, 1, size=(1500, 400))
    request = engine.request_view(path)
    _, image = listener.wait_for("image_loaded", request)
    _, result = listener.wait_for("maps_ready", request)
    assert image.rgb.shape == (273, 1024, 3) and image.original_size == (1500, 400)
    assert all(m.shape == (273, 1024) for m in result.maps.values())
    assert not image.rgb.flags.writeable


def test_problems_without_an_image_are_reported(images, model_dir):
    listener = RecordingListener()
    engine = ExplainEngine(listener)
    try:
        with pytest.raises(PromptSetError):
            engine.set_prompts([])
        engine.set_prompts(PROMPTS)
        request = engine.request_view(images[0])
        _, path, error = listener.wait_for("failed", request)
        assert isinstance(error, ComputeError) and "model" in error.message
        load = engine.load_model(model_dir / "missing-model")
        _, path, error = listener.wait_for("failed", load)
        assert path is None and isinstance(error, ModelLoadError)
    finally:
        engine.shutdown()
