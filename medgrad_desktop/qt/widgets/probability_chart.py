"""Zero-shot differential: class probabilities as bars; criteria ranked by similarity.

Every row has a radio button; the checked row is the prompt whose maps are shown. Criteria
are sorted from most to least similar, with bars spanning the lowest to the highest similarity
of this image (raw cosines are only meaningful relative to each other)."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QLabel,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from medgrad_desktop.explain.prompt_sets import PromptItem, PromptSet
from medgrad_desktop.explain.zero_shot import class_probabilities

HIGH_RISK_MARK = "⚠"


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

    def sizeHint(self) -> QSize:
        """As tall as the text needs at the current width (Qt's guess may add a line)."""
        hint = super().sizeHint()
        if self.width() > 0:
            hint.setHeight(self.heightForWidth(self.width()))
        return hint

    def minimumSizeHint(self) -> QSize:
        return QSize(0, self.sizeHint().height())

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if event.size().width() != event.oldSize().width():
            self.updateGeometry()


class _Bar(QWidget):
    """A thin horizontal bar for a probability in [0, 1] (cheaper than a QProgressBar)."""

    def __init__(self) -> None:
        super().__init__()
        self.fraction = 0.0
        self.setFixedHeight(7)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_fraction(self, fraction: float) -> None:
        fraction = float(fraction)
        fraction = min(max(fraction, 0.0), 1.0) if math.isfinite(fraction) else 0.0
        if fraction != self.fraction:
            self.fraction = fraction
            self.update()

    def paintEvent(self, _event) -> None:
        painter = QPainter(self)
        palette = self.palette()
        painter.fillRect(self.rect(), palette.base())
        painter.fillRect(
            0, 0, round(self.width() * self.fraction), self.height(), palette.highlight()
        )
        painter.setPen(palette.mid().color())
        painter.drawRect(self.rect().adjusted(0, 0, -1, -1))
        painter.end()


class _PromptRow(QWidget):
    """Radio button, wrapped label and value on one line; for classes a bar under them."""

    def __init__(self, item: PromptItem, with_bar: bool) -> None:
        super().__init__()
        self.button = QRadioButton()
        tip = "Show the maps of this prompt.\nTexts: " + "; ".join(item.texts)
        self.button.setToolTip(tip + ("\nHigh-risk class" if item.high_risk else ""))
        text = f"{HIGH_RISK_MARK} {item.label}" if item.high_risk else item.label
        label = _ClickableLabel(text)
        label.setToolTip(self.button.toolTip())
        label.clicked.connect(self.button.click)
        if item.high_risk:
            label.setStyleSheet("color: #b00020")
        self.value = QLabel("–")
        self.value.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.value.setMinimumWidth(self.value.fontMetrics().horizontalAdvance("-0.000") + 4)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(6)
        grid.setVerticalSpacing(1)
        grid.setColumnStretch(1, 1)
        grid.addWidget(self.button, 0, 0)
        grid.addWidget(label, 0, 1)
        grid.addWidget(self.value, 0, 2)
        self.bar: _Bar | None = None
        if with_bar:
            self.bar = _Bar()
            grid.addWidget(self.bar, 1, 1, 1, 2)


CRITERIA_EXPLANATION = (
    "How closely the image matches each description (cosine similarity); "
    "compare them with each other, not with a fixed threshold."
)


def _explanation(text: str) -> QLabel:
    label = QLabel(text)
    label.setWordWrap(True)
    label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
    label.setStyleSheet("color: palette(mid); font-size: 11px")
    return label


class ProbabilityChart(QWidget):
    """One row per prompt of the set; ``promptSelected(index)`` when the user picks a row."""

    promptSelected = Signal(int)  # the user clicked a row
    selectionChanged = Signal(int)  # ``select`` was called

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._outer = QVBoxLayout(self)
        self._outer.setContentsMargins(2, 2, 2, 2)
        self._rows: QWidget | None = None
        self._group = QButtonGroup(self)
        self._group.idClicked.connect(self.promptSelected)
        self.values: dict[int, QLabel] = {}
        self.rows: dict[int, _PromptRow] = {}
        self.criteria_order: list[int] = []
        self._criteria_column: QVBoxLayout | None = None
        self.bars: dict[int, _Bar] = {}
        self.buttons: dict[int, QRadioButton] = {}
        self.prompt_set: PromptSet | None = None

    def set_prompt_set(self, prompt_set: PromptSet, selected: int = 0) -> None:
        """Rebuild the rows for ``prompt_set`` with no values yet."""
        for button in self._group.buttons():
            self._group.removeButton(button)
        if self._rows is not None:  # hidden at once; deleteLater alone leaves it painted
            self._rows.hide()
            self._rows.deleteLater()
        self.values.clear()
        self.rows.clear()
        self.criteria_order = []
        self.bars.clear()
        self.buttons.clear()
        self.prompt_set = prompt_set
        self._rows = QWidget()
        column = QVBoxLayout(self._rows)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(3)
        for title, kind in (
            ("Classes (zero-shot probability)", "class"),
            ("Criteria, most similar first", "criterion"),
        ):
            indices = [i for i, item in enumerate(prompt_set.items) if item.kind == kind]
            if not indices:
                continue
            heading = QLabel(title)
            heading.setWordWrap(True)
            heading.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
            heading.setStyleSheet("font-weight: bold; margin-top: 4px")
            column.addWidget(heading)
            if kind == "criterion":
                column.addWidget(_explanation(CRITERIA_EXPLANATION))
                self.criteria_order = list(indices)
            for index in indices:
                row = _PromptRow(prompt_set.items[index], with_bar=True)
                self.rows[index] = row
                self._group.addButton(row.button, index)
                self.buttons[index], self.values[index] = row.button, row.value
                if row.bar is not None:
                    self.bars[index] = row.bar
                column.addWidget(row)
        column.addStretch(1)
        self._criteria_column = column
        self._outer.addWidget(self._rows)
        self.select(selected)

    def select(self, index: int) -> None:
        button = self.buttons.get(index)
        if button is not None:
            button.setChecked(True)
            self.selectionChanged.emit(index)

    def selected(self) -> int:
        return max(self._group.checkedId(), 0)

    def clear_values(self) -> None:
        for label in self.values.values():
            label.setText("–")
        for bar in self.bars.values():
            bar.set_fraction(0.0)

    def set_values(self, similarity: np.ndarray, logit_scale: float) -> np.ndarray:
        """Fill in class probabilities and criterion similarities; returns the probabilities."""
        class_indices = self.prompt_set.class_indices()
        probabilities = class_probabilities(similarity, class_indices, logit_scale)
        for index, probability in zip(class_indices, probabilities, strict=True):
            self.values[index].setText(f"{probability:.2f}")
            self.bars[index].set_fraction(float(probability))
        self._rank_criteria(np.asarray(similarity, dtype=np.float64))
        return probabilities

    def _rank_criteria(self, similarity: np.ndarray) -> None:
        """Sort the criterion rows by similarity; bars from this image's lowest to highest."""
        criteria = self.criteria_order
        if not criteria:
            return
        values = similarity[criteria]
        low, span = float(values.min()), float(values.max() - values.min())
        ranked = [criteria[i] for i in np.argsort(-values, kind="stable")]
        first = min(self._criteria_column.indexOf(self.rows[i]) for i in criteria)
        for offset, index in enumerate(ranked):
            row = self.rows[index]
            self._criteria_column.removeWidget(row)
            self._criteria_column.insertWidget(first + offset, row)
            value = float(similarity[index])
            row.value.setText(f"{value:.2f}")
            row.bar.set_fraction((value - low) / span if span > 0 else 1.0)
        self.criteria_order = ranked
