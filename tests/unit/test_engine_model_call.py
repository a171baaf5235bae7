"""``ExplainEngine.call_on_model_thread``: background model work (folder embeddings) runs on
the one model thread, survives ``cancel_pending`` and reports errors through the future."""

from __future__ import annotations

import threading

import pytest

from medgrad_desktop.engine.engine import ExplainEngine
from medgrad_desktop.errors import ComputeError
from tests.engine_support import RecordingListener, tiny_model_folder


def test_calls_run_on_the_model_thread_with_the_bundle():
    engine = ExplainEngine(RecordingListener())
    try:
        with pytest.raises(ComputeError, match="No model is open"):
            engine.call_on_model_thread(lambda b: b).result(timeout=10)
        engine.load_model(tiny_model_folder(), device="cpu")
        seen = engine.call_on_model_thread(lambda b: (threading.current_thread().name, b.model_id))
        name, model_id = seen.result(timeout=30)
        assert name.startswith("medgrad-model") and len(model_id) >= 6
        with pytest.raises(ZeroDivisionError):
            engine.call_on_model_thread(lambda b: 1 / 0).result(timeout=10)
    finally:
        engine.shutdown()


def test_cancel_pending_keeps_queued_calls():
    engine = ExplainEngine(RecordingListener())
    gate = threading.Event()
    try:
        engine.load_model(tiny_model_folder(), device="cpu")
        engine.call_on_model_thread(lambda b: None).result(timeout=30)
        blocker = engine.call_on_model_thread(lambda b: gate.wait(10))
        queued = engine.call_on_model_thread(lambda b: "still here")
        engine.cancel_pending()
        gate.set()
        assert blocker.result(timeout=10) is True
        assert queued.result(timeout=10) == "still here"
    finally:
        gate.set()
        engine.shutdown()
    after = engine.call_on_model_thread(lambda b: None)
    with pytest.raises(ComputeError, match="closing"):
        after.result(timeout=1)
