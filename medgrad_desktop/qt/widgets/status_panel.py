"""Status bar contents in plain words: "Model: demo · CPU · ready", and the research notice."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QStatusBar

from medgrad_desktop import RESEARCH_NOTICE
from medgrad_desktop.engine.api import ModelInfo

LOADING_TEXT = "Loading model…"


class StatusPanel:
    """Adds permanent labels to a ``QStatusBar``; transient messages use the bar itself."""

    def __init__(self, bar: QStatusBar) -> None:
        self.bar = bar
        self.model = QLabel(LOADING_TEXT)
        self.model.setObjectName("modelStatus")
        self.notice = QLabel(RESEARCH_NOTICE)
        self.notice.setStyleSheet("color: #b00020")
        for label in (self.model, self.notice):
            bar.addPermanentWidget(label)
        self.info: ModelInfo | None = None
        self.pending = 0
        self.loading = True

    def _refresh(self) -> None:
        if self.loading:
            self.model.setText(LOADING_TEXT)
            return
        if self.info is None:
            self.model.setText("No model open")
            return
        activity = "working…" if self.pending else "ready"
        self.model.setText(f"Model: {self.info.name} · {self.info.device.upper()} · {activity}")

    def set_loading(self, name: str) -> None:
        self.loading = True
        self.model.setToolTip(f"Opening {name}")
        self._refresh()

    def set_model(self, info: ModelInfo) -> None:
        self.info, self.loading = info, False
        found = f"{info.description}\n" if info.description else ""
        self.model.setToolTip(
            f"{info.name}\n{found}identifier {info.model_id}\ninput {info.image_size} px\n"
            f"running on {info.device.upper()}"
        )
        self._refresh()
        # short: the description is in the tooltip and under the prompts, and a long line
        # would run into the model status beside it
        self.show_message(f"Opened {info.name}.")

    def set_model_failed(self, still_open: ModelInfo | None) -> None:
        """Opening a model failed; ``still_open`` is the model that stays in use (or None)."""
        self.loading = False
        self.info = still_open
        self._refresh()

    def set_pending(self, pending: int) -> None:
        self.pending = pending
        self._refresh()

    def show_message(self, text: str, msecs: int = 8000) -> None:
        self.bar.showMessage(text, msecs)
