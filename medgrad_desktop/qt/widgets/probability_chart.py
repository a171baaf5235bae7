"""Zero-shot differential: class probabilities as bars, criteria with their similarity.

Every row has a radio button; the checked row is the prompt whose maps are shown."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QLabel,
    QProgressBar,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from medgrad_desktop.explain.prompt_sets import PromptSet

HIGH_RISK_MARK = "⚠"
BAR_STEPS = 1000


def class_probabilities(
    similarity: np.ndarray, class_indices: list[int], logit_scale: float
) -> np.ndarray:
    """Softmax of ``logit_scale × similarity`` over the class prompts only."""
    if not class_indices:
        return np.zeros(0, dtype=np.float32)
    logits = logit_scale * np.asarray(similarity, dtype=np.float64)[class_indices]
    logits -= logits.max()
    weights = np.exp(logits)
    return (weights / weights.sum()).astype(np.float32)


class _ClickableLabel(QLabel):
    """A word-wrapped label that reports clicks (it selects its row's radio button)."""

    clicked = Signal()

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.setWordWrap(True)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)

    def mousePressEvent(self, event) -> None:
        self.clicked.emit()
        super().mousePressEvent(event)


class ProbabilityChart(QWidget):
    """One row per prompt of the set; ``promptSelected(index)`` when the user picks a row."""

    promptSelected = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._outer = QVBoxLayout(self)
        self._outer.setContentsMargins(0, 0, 0, 0)
        self._rows: QWidget | None = None
        self._grid = QGridLayout()
        self._group = QButtonGroup(self)
        self._group.idClicked.connect(self.promptSelected)
        self.values: dict[int, QLabel] = {}
        self.bars: dict[int, QProgressBar] = {}
        self.buttons: dict[int, QRadioButton] = {}
        self.prompt_set: PromptSet | None = None

    def set_prompt_set(self, prompt_set: PromptSet, selected: int = 0) -> None:
        """Rebuild the rows for ``prompt_set`` with no values yet."""
        for button in self._group.buttons():
            self._group.removeButton(button)
        if self._rows is not None:  # a fresh grid each time: no leftover row sizes
            self._rows.hide()
            self._rows.deleteLater()
        self._rows = QWidget()
        self._grid = QGridLayout(self._rows)
        self._grid.setContentsMargins(2, 2, 2, 2)
        self._grid.setHorizontalSpacing(6)
        self._grid.setVerticalSpacing(2)
        self._grid.setColumnStretch(1, 1)
        self._outer.addWidget(self._rows)
        self.values.clear()
        self.bars.clear()
        self.buttons.clear()
        self.prompt_set = prompt_set
        row = 0
        for title, kind in (
            ("Classes (zero-shot probability)", "class"),
            ("Criteria (similarity)", "criterion"),
        ):
            indices = [i for i, item in enumerate(prompt_set.items) if item.kind == kind]
            if not indices:
                continue
            heading = QLabel(title)
            heading.setWordWrap(True)
            heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            heading.setStyleSheet("font-weight: bold; margin-top: 4px")
            self._grid.addWidget(heading, row, 0, 1, 3)
            row += 1
            for index in indices:
                row = self._add_row(row, index, kind == "class")
        self._grid.setRowStretch(row, 1)
        self.select(selected)

    def _add_row(self, row: int, index: int, with_bar: bool) -> int:
        """Radio button, wrapped label and value on one line, the bar under it; returns the
        next free grid row."""
        item = self.prompt_set.items[index]
        button = QRadioButton()
        tip = "Show the maps of this prompt.\nTexts: " + "; ".join(item.texts)
        button.setToolTip(tip + ("\nHigh-risk class" if item.high_risk else ""))
        self._group.addButton(button, index)
        label = _ClickableLabel(f"{HIGH_RISK_MARK} {item.label}" if item.high_risk else item.label)
        label.setToolTip(button.toolTip())
        label.clicked.connect(button.click)
        if item.high_risk:
            label.setStyleSheet("color: #b00020")
        value = QLabel("–")
        value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        value.setMinimumWidth(value.fontMetrics().horizontalAdvance("-0.000") + 4)
        self._grid.addWidget(button, row, 0)
        self._grid.addWidget(label, row, 1)
        self._grid.addWidget(value, row, 2)
        self.buttons[index], self.values[index] = button, value
        if not with_bar:
            return row + 1
        bar = QProgressBar()
        bar.setRange(0, BAR_STEPS)
        bar.setValue(0)
        bar.setTextVisible(False)
        bar.setFixedHeight(7)
        self._grid.addWidget(bar, row + 1, 1, 1, 2)
        self.bars[index] = bar
        return row + 2

    def select(self, index: int) -> None:
        button = self.buttons.get(index)
        if button is not None:
            button.setChecked(True)

    def selected(self) -> int:
        return max(self._group.checkedId(), 0)

    def clear_values(self) -> None:
        for label in self.values.values():
            label.setText("–")
        for bar in self.bars.values():
            bar.setValue(0)

    def set_values(self, similarity: np.ndarray, logit_scale: float) -> np.ndarray:
        """Fill in class probabilities and criterion similarities; returns the probabilities."""
        class_indices = self.prompt_set.class_indices()
        probabilities = class_probabilities(similarity, class_indices, logit_scale)
        for index, probability in zip(class_indices, probabilities, strict=True):
            self.values[index].setText(f"{probability:.2f}")
            self.bars[index].setValue(round(float(probability) * BAR_STEPS))
        for index, item in enumerate(self.prompt_set.items):
            if item.kind != "class":
                self.values[index].setText(f"{float(similarity[index]):.3f}")
        return probabilities
