"""Engine behaviour for fast browsing: the top class chosen with the evidence (one pass),
prefetch that renders the maps it will be asked for, the current radius's entropy computed
while the model runs, other radii only when idle, and results that name their model."""

from __future__ import annotations

import time

import pytest

from medgrad_desktop.engine import rendering
from medgrad_desktop.engine.engine import ExplainEngine
from medgrad_desktop.explain import explain, load_model
from tests.engine_support import PROMPTS, RecordingListener, tiny_model_folder, write_images


@pytest.fixture(scope="module")
def bundle():
    return load_model(tiny_model_folder(), "cpu")


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("browse"), 3)


@pytest.fixture
def started(bundle):
    listener = RecordingListener()
    engine = ExplainEngine(listener, cache_bytes=64 * 1024 * 1024, precompute_radii=(3, 5, 8))
    engine.load_model(bundle)
    info = listener.wait_for("model_loaded")[0]
    yield engine, listener, info
    engine.shutdown()


def test_following_picks_the_most_similar_candidate_in_one_pass(started, bundle, images):
    engine, listener, info = started
    candidates = (0, 2)
    engine.set_prompts(PROMPTS, top_candidates=candidates)
    request = engine.request_view(images[1], prompt_index=None, entropy_radius=5)
    result = listener.wait_for("maps_ready", request)[1]
    similarity = explain(bundle, images[1], PROMPTS).similarity  # independent computation
    expected = max(candidates, key=lambda i: similarity[i])
    assert result.prompt_index == expected
    assert result.model_id == info.model_id
    assert engine.model_runs == 1 and len(listener.of("maps_ready", request)) == 1


def test_prefetched_image_is_answered_from_the_caches(started, images, monkeypatch):
    engine, listener, _ = started
    engine.set_prompts(PROMPTS)
    engine.prefetch([images[2]], prompt_index=1, entropy_radius=8)
    assert engine.wait_until_idle(30)
    runs = engine.model_runs
    computed = []
    real = rendering.entropy_weight
    monkeypatch.setattr(
        rendering, "entropy_weight", lambda *a, **k: computed.append(a[1]) or real(*a, **k)
    )
    request = engine.request_view(images[2], prompt_index=1, entropy_radius=8)
    result = listener.wait_for("maps_ready", request)[1]
    assert engine.model_runs == runs  # the evidence was prefetched
    assert 8 not in computed  # and the entropy weight of the radius in view
    assert result.prompt_index == 1 and set(result.maps) == {"gradcam", "gradeclip", "medgrad"}
    assert listener.of("maps_ready", None)[-1][0] == request  # prefetch itself reports nothing


def test_other_radii_are_computed_only_once_the_view_is_done(started, images, monkeypatch):
    engine, listener, _ = started
    engine.set_prompts(PROMPTS)
    order = []
    real = rendering.entropy_weight
    monkeypatch.setattr(
        rendering, "entropy_weight", lambda *a, **k: order.append(a[1]) or real(*a, **k)
    )
    request = engine.request_view(images[0], prompt_index=0, entropy_radius=5)
    listener.wait_for("maps_ready", request)
    assert engine.wait_until_idle(30)
    assert order[0] == 5  # the radius in view first
    assert sorted(order[1:]) == [3, 8]  # then the others, in the background


@pytest.mark.parametrize("evidence_cached", [False, True])
def test_prefetch_renders_only_once_the_view_is_shown(
    started, images, monkeypatch, evidence_cached
):
    """On two cores prefetch's entropy and maps must not compete with the image in view,
    whether its evidence still needs the model or is already known."""
    engine, listener, _ = started
    engine.set_prompts(PROMPTS)
    if evidence_cached:
        engine.prefetch(images[1:], prompt_index=0, entropy_radius=5)
        assert engine.wait_until_idle(30)
    rendered = []
    real = rendering.MapRenderer.entropy

    def entropy(renderer, image, *args):
        rendered.append((image.path, time.monotonic()))
        return real(renderer, image, *args)

    monkeypatch.setattr(rendering.MapRenderer, "entropy", entropy)
    engine.render_cache.clear()  # decoded images, entropy weights and maps
    if not evidence_cached:
        engine.evidence_cache.clear()
    request = engine.request_view(images[0], prompt_index=0, entropy_radius=5)
    engine.prefetch(images[1:], prompt_index=0, entropy_radius=5)
    listener.wait_for("maps_ready", request)
    shown = next(t for t, kind, args in listener.events if kind == "maps_ready")
    assert engine.wait_until_idle(30)
    prefetched = [when for path, when in rendered if path != images[0]]
    assert {path for path, _ in rendered} == set(images)  # prefetch did render, afterwards
    assert min(prefetched) >= shown
