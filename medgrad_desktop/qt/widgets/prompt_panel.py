"""The prompt panel: prompt-set choice and editing, the zero-shot differential, the notice."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from medgrad_desktop import RESEARCH_NOTICE
from medgrad_desktop.engine.view_state import ViewState
from medgrad_desktop.errors import PromptSetError
from medgrad_desktop.explain.prompt_sets import (
    DEFAULT_PROMPT_SET,
    PromptSet,
    bundled_prompt_sets,
    load_prompt_set,
    user_prompt_sets,
)
from medgrad_desktop.qt.state_binding import bind
from medgrad_desktop.qt.widgets.probability_chart import ProbabilityChart

log = logging.getLogger(__name__)

USER_SUFFIX = " (edited)"
FOLLOW_TEXT = "Follow the top class"
FOLLOW_TIP = (
    "On: each image shows the maps of its most probable class.\n"
    "Off: the prompt you chose stays selected from image to image."
)


class PromptPanel(QGroupBox):
    """``promptSetChanged(PromptSet)`` on a new set, ``promptSelected(int)`` when the reader
    picks a prompt; the chosen prompt and "follow the top class" are bound to ``state``."""

    promptSetChanged = Signal(object)
    promptSelected = Signal(int)
    editRequested = Signal()
    loadFailed = Signal(str)  # plain message

    def __init__(self, state: ViewState, parent: QWidget | None = None) -> None:
        super().__init__("Prompt && prediction", parent)
        self.state = state
        self.set_combo = QComboBox()
        self.set_combo.setToolTip("Prompt set (bundled sets and your edited copies)")
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setToolTip("Edit the prompt set and save a copy")
        self.chart = ProbabilityChart()
        self.follow_box = QCheckBox(FOLLOW_TEXT)
        self.follow_box.setToolTip(FOLLOW_TIP)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(self.chart)
        self.status = QLabel("Waiting for the model…")
        self.status.setWordWrap(True)
        self.notice = QLabel(RESEARCH_NOTICE)
        self.notice.setWordWrap(True)
        self.notice.setStyleSheet("color: #b00020; font-weight: bold")

        row = QHBoxLayout()
        row.addWidget(self.set_combo, 1)
        row.addWidget(self.edit_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(self.notice)
        layout.addWidget(self.follow_box)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.status)

        self.prompt_set: PromptSet | None = None
        self.set_combo.currentIndexChanged.connect(self._on_set_chosen)
        self.edit_button.clicked.connect(self.editRequested)
        self.chart.promptSelected.connect(self.select_prompt)
        self.chart.selectionChanged.connect(self._on_selection_shown)
        bind(
            state,
            "follow_top_class",
            self.follow_box,
            self.follow_box.toggled,
            self.follow_box.setChecked,
        )
        state.events.prompt_index.connect(self._show_selection)
        state.events.rating_mode.connect(lambda rating: self.follow_box.setEnabled(not rating))

    def reload_sets(self, select: Path | None = None) -> None:
        """List bundled and user prompt sets; choose ``select`` (a path) or keep the current."""
        current = str(select) if select is not None else self.set_combo.currentData()
        bundled = bundled_prompt_sets()
        if current is None and DEFAULT_PROMPT_SET in bundled:
            current = str(bundled[DEFAULT_PROMPT_SET])
        self.set_combo.blockSignals(True)
        self.set_combo.clear()
        for name, path in bundled.items():
            self.set_combo.addItem(name, str(path))  # strings: findData compares them by value
        for name, path in user_prompt_sets().items():
            self.set_combo.addItem(name + USER_SUFFIX, str(path))
        self.set_combo.blockSignals(False)
        position = self.set_combo.findData(current) if current is not None else -1
        self.set_combo.setCurrentIndex(-1)
        self.set_combo.setCurrentIndex(max(position, 0))

    def selected_prompt(self) -> int:
        return self.chart.selected()

    def select_prompt(self, index: int) -> None:
        """The reader (or a rating session) chose prompt ``index``."""
        self.state.choose_prompt(index)
        self._show_selection(index)
        self.promptSelected.emit(index)

    def _show_selection(self, index: int) -> None:
        blocked = self.chart.blockSignals(True)
        self.chart.select(index)
        self.chart.blockSignals(blocked)

    def _on_selection_shown(self, index: int) -> None:
        """``chart.select`` called directly (e.g. by a rating session): the state follows."""
        self.state.prompt_index = index

    def _on_set_chosen(self, position: int) -> None:
        path = self.set_combo.itemData(position)
        if path is None:
            return
        try:
            prompt_set = load_prompt_set(Path(path))
        except PromptSetError as error:
            log.error("Prompt set %s: %s (%s)", path, error.message, error.details)
            self.loadFailed.emit(error.message)
            return
        self.prompt_set = prompt_set
        self.chart.set_prompt_set(prompt_set, selected=0)
        self.promptSetChanged.emit(prompt_set)
