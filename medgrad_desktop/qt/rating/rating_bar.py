"""The bar shown above the comparison in rating mode: case, prompt, progress, navigation,
what the scores mean and which keys do what."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

KEY_STRIP = (
    "Keys: Tab / Shift+Tab next / previous panel · 1–5 rate the framed panel · "
    "Ctrl+Z undo the last score of this case · Page Down / Page Up next / previous case"
)


class RatingBar(QWidget):
    """Plain facts only: which case and prompt are rated and how far the reader is."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.reader = QLabel()
        self.reader.setStyleSheet("font-weight: bold")
        self.case = QLabel()
        self.prompt = QLabel()
        self.prompt.setStyleSheet("font-weight: bold; color: #1f4e99")
        self.prompt.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.progress = QProgressBar()
        self.progress.setFormat("%v of %m cases rated")
        self.progress.setMinimumWidth(200)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #5c4400")
        self.message.hide()
        self.scale = QLabel()
        self.scale.setObjectName("ratingScale")
        self.scale.setWordWrap(True)
        self.scale.setStyleSheet("color: #243b53")
        self.keys = QLabel(KEY_STRIP)
        self.keys.setObjectName("ratingKeys")
        self.keys.setWordWrap(True)
        self.keys.setStyleSheet("color: #486581")
        self.previous_button = QPushButton("◀ Previous case")
        self.next_button = QPushButton("Next case ▶")
        self.leave_button = QPushButton("Leave rating mode")
        for button in (self.previous_button, self.next_button, self.leave_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.reader)
        top.addWidget(self.case)
        top.addWidget(self.prompt, 1)
        top.addWidget(self.progress)
        top.addWidget(self.previous_button)
        top.addWidget(self.next_button)
        top.addWidget(self.leave_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.scale)
        layout.addWidget(self.keys)
        layout.addWidget(self.message)

    def set_scale(self, labels: Sequence[str]) -> None:
        """Show what each score means: "1 = misses the region · … · 5 = …"."""
        self.scale.setText(
            "Scores: " + " · ".join(f"{i} = {text}" for i, text in enumerate(labels, start=1))
        )

    def set_reader(self, reader: str, study: str) -> None:
        self.reader.setText(f"Reader {reader} · study {study}")

    def set_case(self, position: int, total: int, prompt: str, prompt_position: tuple[int, int]):
        """``position`` is 1-based; ``prompt_position`` is (n, of) for multi-prompt cases."""
        self.case.setText(f"· case {position} of {total} ·")
        number, count = prompt_position
        suffix = f" ({number} of {count})" if count > 1 else ""
        self.prompt.setText(f"Prompt: {prompt}{suffix}" if prompt else "Prompt: finding out…")

    def set_progress(self, done: int, total: int) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.setVisible(bool(text))
