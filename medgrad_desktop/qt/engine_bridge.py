"""The Qt side of the engine: listener callbacks (worker threads) become queued Qt signals."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Signal

from medgrad_desktop.engine.api import LoadedImage, MapsResult, ModelInfo
from medgrad_desktop.errors import MedGradError


class EngineBridge(QObject):
    """Implements ``EngineListener``; each callback only emits a ``sig_*`` signal.

    The bridge lives on the GUI thread, so a signal emitted from a worker thread is queued and
    the connected slots run on the GUI thread. Nothing else in the GUI is called from workers.
    """

    sig_model_loaded = Signal(object)  # ModelInfo
    sig_image_loaded = Signal(int, object)  # request_id, LoadedImage
    sig_evidence_ready = Signal(int, object, object)  # request_id, Path, Evidence
    sig_maps_ready = Signal(int, object)  # request_id, MapsResult
    sig_failed = Signal(int, object, object)  # request_id, Path | None, MedGradError
    sig_queue_changed = Signal(int)

    def model_loaded(self, info: ModelInfo) -> None:
        self.sig_model_loaded.emit(info)

    def image_loaded(self, request_id: int, image: LoadedImage) -> None:
        self.sig_image_loaded.emit(request_id, image)

    def evidence_ready(self, request_id: int, path: Path, evidence) -> None:
        self.sig_evidence_ready.emit(request_id, path, evidence)

    def maps_ready(self, request_id: int, result: MapsResult) -> None:
        self.sig_maps_ready.emit(request_id, result)

    def failed(self, request_id: int, path: Path | None, error: MedGradError) -> None:
        self.sig_failed.emit(request_id, path, error)

    def queue_changed(self, pending: int) -> None:
        self.sig_queue_changed.emit(pending)
