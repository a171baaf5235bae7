"""The rating row under one blinded map panel: score 1–5, "wrong region" flag, comment."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

SCORES = (1, 2, 3, 4, 5)
_CHECKED_STYLE = " QPushButton:checked { background: #1f4e99; color: white; font-weight: bold }"
_CURRENT_STYLE = (
    "PanelRating { border: 3px solid #2a7ae2; border-radius: 4px; background: #eaf2fd }"
    + _CHECKED_STYLE
)
_OTHER_STYLE = "PanelRating { border: 3px solid transparent; border-radius: 4px }" + (
    _CHECKED_STYLE
)
SAVED_MARK = "✓ saved"


class PanelRating(QFrame):
    """The score buttons, flag and comment under one blinded panel.

    Keys are handled by the rating controller (one place for Tab, digits and Ctrl+Z); the
    row only shows whether it is the current panel (``set_current``: a framed, tinted row,
    shown whether or not the window has keyboard focus). It never claims a score is saved by
    itself: the controller calls ``show_saved`` only after the rating was committed, or
    ``show_unsaved`` with the reason it was not.
    """

    scoreChosen = Signal(int)
    detailsChanged = Signal()  # flag or comment edited

    def __init__(self, label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("panelRating")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.setStyleSheet(_OTHER_STYLE)
        self.current = False
        self.label = ""
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold")
        self.buttons = QButtonGroup(self)
        self.buttons.setExclusive(True)
        scores = QHBoxLayout()
        scores.setSpacing(2)
        scores.addWidget(self.title)
        for score in SCORES:
            button = QPushButton(str(score))
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.setFixedWidth(button.fontMetrics().horizontalAdvance("55") + 16)
            self.buttons.addButton(button, score)
            scores.addWidget(button)
        self.status = QLabel()
        scores.addWidget(self.status, 1)
        self.flag = QCheckBox("Wrong region")
        self.flag.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.flag.setToolTip("Tick when this map highlights the wrong region")
        self.comment = QLineEdit()
        self.comment.setPlaceholderText("Comment (optional)")
        details = QHBoxLayout()
        details.addWidget(self.flag)
        details.addWidget(self.comment, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(2)
        layout.addLayout(scores)
        layout.addLayout(details)

        self.saved_score: int | None = None
        self.buttons.idClicked.connect(self._on_clicked)
        self.flag.toggled.connect(lambda _on: self.detailsChanged.emit())
        self.comment.editingFinished.connect(self._on_comment_done)
        self._saved_comment = ""
        self.set_label(label)
        self.reset()

    # -- state -----------------------------------------------------------------------------
    def set_label(self, label: str) -> None:
        """Title the row with its panel label (A, B, C…) only."""
        self.label = label
        self.title.setText(f"{label}:")
        self.setAccessibleName(f"Rating of panel {label}")
        self.setToolTip(f"Panel {label}: press 1 to 5 to rate, Tab for the next panel")
        for button in self.buttons.buttons():
            button.setAccessibleName(f"Score {button.text()} for panel {label}")

    def set_scale_labels(self, labels: Sequence[str]) -> None:
        """What each score means, as the buttons' tooltips."""
        for score, text in zip(SCORES, labels, strict=True):
            self.buttons.button(score).setToolTip(f"{score} = {text}")

    def set_current(self, current: bool) -> None:
        """Frame the row as the one that keys 1–5 rate."""
        self.current = current
        self.setStyleSheet(_CURRENT_STYLE if current else _OTHER_STYLE)

    def set_options(self, flag: bool, comments: bool) -> None:
        """Show the flag and the comment box only when the session uses them."""
        self.flag.setVisible(flag)
        self.comment.setVisible(comments)

    def reset(self) -> None:
        """No score, no flag, no comment (a new case or prompt)."""
        self._set_checked(None)
        self.saved_score = None
        self._saved_comment = ""
        for widget in (self.flag, self.comment):
            widget.blockSignals(True)
        self.flag.setChecked(False)
        self.comment.clear()
        for widget in (self.flag, self.comment):
            widget.blockSignals(False)
        self.status.setText("")
        self.status.setToolTip("")

    def set_ratable(self, ratable: bool) -> None:
        """Scores can be given only while the maps of the current prompt are shown."""
        for button in self.buttons.buttons():
            button.setEnabled(ratable)

    def set_details_editable(self, editable: bool) -> None:
        self.flag.setEnabled(editable)
        self.comment.setReadOnly(not editable)

    def show_saved(self, score: int, flag: bool = False, comment: str = "") -> None:
        """The rating is on disk: check the score and show the ✓."""
        self._set_checked(score)
        self.saved_score = score
        self._saved_comment = comment
        for widget in (self.flag, self.comment):
            widget.blockSignals(True)
        self.flag.setChecked(bool(flag))
        if self.comment.text() != comment:
            self.comment.setText(comment)
        for widget in (self.flag, self.comment):
            widget.blockSignals(False)
        self.status.setText(SAVED_MARK)
        self.status.setStyleSheet("color: #1b7f3a; font-weight: bold")
        self.status.setToolTip("This rating is saved in the session file.")

    def show_unsaved(self, score: int, message: str) -> None:
        """The rating could not be saved: keep ``score`` checked but marked as not saved."""
        self._set_checked(score)
        self.status.setText("✗ not saved")
        self.status.setStyleSheet("color: #b00020; font-weight: bold")
        self.status.setToolTip(message)

    def is_saved(self) -> bool:
        return self.saved_score is not None and self.status.text() == SAVED_MARK

    def chosen_score(self) -> int | None:
        checked = self.buttons.checkedId()
        return checked if checked in SCORES else None

    def flagged(self) -> bool:
        return self.flag.isVisible() and self.flag.isChecked()

    def comment_text(self) -> str:
        return self.comment.text().strip() if self.comment.isVisible() else ""

    # -- input -----------------------------------------------------------------------------
    def _set_checked(self, score: int | None) -> None:
        self.buttons.setExclusive(False)
        for button in self.buttons.buttons():
            button.setChecked(self.buttons.id(button) == score)
        self.buttons.setExclusive(True)

    def _on_clicked(self, score: int) -> None:
        self.setFocus(Qt.FocusReason.MouseFocusReason)
        self.scoreChosen.emit(score)

    def _on_comment_done(self) -> None:
        if self.comment.text().strip() != self._saved_comment:
            self.detailsChanged.emit()
