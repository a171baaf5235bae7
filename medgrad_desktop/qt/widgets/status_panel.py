"""Status bar contents: device, model name and short id, queue length, research-use notice."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from medgrad_desktop import RESEARCH_NOTICE
from medgrad_desktop.engine.api import ModelInfo


class StatusPanel:
    """Adds permanent labels to a ``QStatusBar``; transient messages use the bar itself."""

    def __init__(self, bar: QStatusBar) -> None:
        self.bar = bar
        self.device = QLabel("device: –")
        self.model = QLabel("model: loading…")
        self.queue = QLabel("queue 0")
        self.notice = QLabel(RESEARCH_NOTICE)
        self.notice.setStyleSheet("color: #b00020")
        for label in (self.device, self.model, self.queue, self.notice):
            bar.addPermanentWidget(label)

    def set_model(self, info: ModelInfo) -> None:
        self.device.setText(f"device: {info.device.upper()}")
        self.model.setText(f"model: {info.name} · {info.model_id[:6]}")
        found = f"\n{info.description}" if info.description else ""
        self.model.setToolTip(f"{info.name}{found}\nid {info.model_id}\ninput {info.image_size} px")
        if info.description:
            self.show_message(f"Opened {info.name}: {info.description}")

    def set_model_failed(self) -> None:
        self.model.setText("model: not loaded")

    def set_queue(self, pending: int) -> None:
        self.queue.setText(f"queue {pending}")

    def show_message(self, text: str, msecs: int = 8000) -> None:
        self.bar.showMessage(text, msecs)
