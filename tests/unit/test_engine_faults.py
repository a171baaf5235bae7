"""ExplainEngine under faults: out of memory (injected), unexpected errors, a failing listener,
shutdown while the model is running."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
import torch

from medgrad_desktop.engine import model_runner
from medgrad_desktop.engine.engine import ExplainEngine
from medgrad_desktop.engine.model_runner import (
    CPU_FALLBACK_MESSAGE,
    CPU_OOM_MESSAGE,
    is_out_of_memory,
)
from medgrad_desktop.errors import ComputeError
from medgrad_desktop.explain import load_model
from tests.engine_support import PROMPTS, RecordingListener, tiny_model_folder, write_images


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    return write_images(tmp_path_factory.mktemp("images"), 3)


@pytest.fixture
def engine():
    """A fresh model per test: the out-of-memory path moves it between devices."""
    listener = RecordingListener()
    engine = ExplainEngine(listener, cache_bytes=16 * 1024 * 1024)
    engine.load_model(load_model(tiny_model_folder(), "cpu"))
    listener.wait_for("model_loaded")
    engine.set_prompts(PROMPTS)
    yield engine, listener
    engine.shutdown()


def inject_faults(monkeypatch, *errors: Exception) -> list[int]:
    """The next model runs raise ``errors`` in turn; later runs are real. Returns call log."""
    real, pending, calls = model_runner.compute_evidence, list(errors), []

    def faulty(*args, **kwargs):
        calls.append(len(calls))
        if pending:
            raise pending.pop(0)
        return real(*args, **kwargs)

    monkeypatch.setattr(model_runner, "compute_evidence", faulty)
    return calls


def cuda_oom() -> Exception:
    return torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")


def test_out_of_memory_errors_are_recognised():
    assert is_out_of_memory(cuda_oom())
    assert is_out_of_memory(RuntimeError("CUDA error: out of memory"))
    assert not is_out_of_memory(RuntimeError("shape mismatch"))
    assert not is_out_of_memory(ValueError("out of memory"))


def test_one_out_of_memory_frees_the_caches_and_retries_with_the_prompts_split(
    engine, images, monkeypatch
):
    engine, listener = engine
    listener.wait_for("maps_ready", engine.request_view(images[0]))
    assert len(engine.evidence_cache) == 1
    whole = engine._runner.evidence(
        engine._decoded(images[1], engine._runner.bundle, "square").model_input,
        engine._prompts,
        engine.methods,
        notify=None,
    )
    runs = engine.model_runs
    calls = inject_faults(monkeypatch, cuda_oom())

    request = engine.request_view(images[1])
    _, _, evidence = listener.wait_for("evidence_ready", request)
    listener.wait_for("maps_ready", request)
    assert len(calls) == 3 and engine.model_runs == runs + 3  # the fault, then two halves
    assert not listener.of("failed")
    assert len(engine.evidence_cache) == 1  # the first image's evidence was freed
    np.testing.assert_allclose(evidence.similarity, whole.similarity, atol=1e-6)
    np.testing.assert_allclose(evidence.probability, whole.probability, atol=1e-6)
    for method, maps in whole.patch_maps.items():
        np.testing.assert_allclose(evidence.patch_maps[method], maps, atol=1e-6)


def test_repeated_graphics_memory_shortage_moves_the_model_to_the_cpu(engine, images, monkeypatch):
    engine, listener = engine
    bundle = engine._runner.bundle
    bundle.encode_prompts(PROMPTS)  # cached text embeddings: no text work on the fake device
    bundle.device = torch.device("cuda")  # pretend the model sits on a graphics card
    calls = inject_faults(monkeypatch, cuda_oom(), cuda_oom())

    request = engine.request_view(images[0])
    _, result = listener.wait_for("maps_ready", request)
    _, path, notice = listener.wait_for("failed", request)
    assert path is None and isinstance(notice, ComputeError)
    assert notice.message == CPU_FALLBACK_MESSAGE and "CPU" in notice.message
    infos = [args[0] for args in listener.of("model_loaded")]
    assert [info.device for info in infos] == ["cpu", "cpu"]  # the status bar is told
    assert bundle.device.type == "cpu"
    assert all(p.device.type == "cpu" for p in bundle.model.parameters())
    assert len(calls) == 3 and set(result.maps) == {"gradcam", "gradeclip", "medgrad"}
    assert listener.of("evidence_ready", request)


def test_memory_shortage_on_the_cpu_fails_the_request_but_not_the_engine(
    engine, images, monkeypatch
):
    engine, listener = engine
    inject_faults(monkeypatch, cuda_oom(), RuntimeError("DefaultCPUAllocator: out of memory"))
    request = engine.request_view(images[0])
    _, path, error = listener.wait_for("failed", request)
    assert path == images[0] and isinstance(error, ComputeError)
    assert error.message == CPU_OOM_MESSAGE
    listener.wait_for("maps_ready", engine.request_view(images[1]))


def test_unexpected_errors_and_a_failing_listener_do_not_stop_the_engine(
    engine, images, monkeypatch
):
    engine, listener = engine
    inject_faults(monkeypatch, ValueError("a bug"))
    request = engine.request_view(images[0])
    _, path, error = listener.wait_for("failed", request)
    assert path == images[0] and isinstance(error, ComputeError)
    assert "a bug" in error.details

    def broken_callback(*_args):
        raise RuntimeError("listener bug")

    monkeypatch.setattr(listener, "image_loaded", broken_callback)
    listener.wait_for("maps_ready", engine.request_view(images[1]))


def test_shutdown_while_the_model_runs_returns_promptly_and_then_stays_silent(images, monkeypatch):
    listener = RecordingListener()
    engine = ExplainEngine(listener)
    engine.load_model(load_model(tiny_model_folder(), "cpu"))
    listener.wait_for("model_loaded")
    engine.set_prompts(PROMPTS)
    gate, started = threading.Event(), threading.Event()
    real = model_runner.compute_evidence

    def stuck(*args, **kwargs):
        started.set()
        gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(model_runner, "compute_evidence", stuck)
    engine.request_view(images[0])
    engine.prefetch(images[1:])
    assert started.wait(10)

    began = time.monotonic()
    engine.shutdown(timeout=0.5)
    assert time.monotonic() - began < 2.0
    count = len(listener.events)
    gate.set()  # the abandoned run now finishes
    time.sleep(0.5)
    assert len(listener.events) == count
    engine.request_view(images[2])
    time.sleep(0.2)
    assert len(listener.events) == count and engine.model_runs == 1


def test_shutdown_when_idle_ends_the_threads(images):
    listener = RecordingListener()
    engine = ExplainEngine(listener)
    engine.shutdown(timeout=2)
    threads = engine._cpu._threads + engine._model._threads
    assert threads and not any(thread.is_alive() for thread in threads)
