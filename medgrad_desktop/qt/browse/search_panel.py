"""The search tab's controls: words or a prompt to search for, find similar, sort and filter,
progress of the indexing with Cancel, and the grid of results."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from medgrad_desktop.explain.prompt_sets import PromptSet
from medgrad_desktop.qt.browse.image_grid import ImageGrid

SORT_CHOICES = (
    ("folder order", "name"),
    ("best match to the search", "similarity"),
    ("predicted class", "predicted class"),
    ("probability of the predicted class", "probability"),
)


class SearchPanel(QWidget):
    """Emits ``searchRequested(texts)``, ``similarRequested(name)`` and ``viewChanged()`` when
    the sort or filter changes; the window fills the grid."""

    searchRequested = Signal(object)  # str or tuple of synonym texts
    similarRequested = Signal(str)
    viewChanged = Signal()
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.query = QLineEdit()
        self.query.setObjectName("browseQuery")
        self.query.setPlaceholderText("Search with words, e.g. blue-whitish veil")
        self.query.setClearButtonEnabled(True)
        self.search_button = QPushButton("Search")
        self.prompt_combo = QComboBox()
        self.prompt_combo.setObjectName("browsePromptCombo")
        self.similar_button = QPushButton("Find similar")
        self.similar_button.setToolTip("Rank the folder by likeness to the selected image")
        self.sort_combo = QComboBox()
        for text, key in SORT_CHOICES:
            self.sort_combo.addItem(text, key)
        self.class_combo = QComboBox()
        self.min_probability = QDoubleSpinBox()
        self.min_probability.setRange(0.0, 1.0)
        self.min_probability.setSingleStep(0.05)
        self.min_probability.setDecimals(2)
        self.min_probability.setPrefix("probability ≥ ")
        self.progress = QProgressBar()
        self.progress.setFormat("indexing images: %v of %m")
        self.cancel_button = QPushButton("Cancel")
        self.status = QLabel()
        self.status.setObjectName("browseStatus")
        self.status.setWordWrap(True)
        self.grid = ImageGrid()
        self._layout()
        self.query.returnPressed.connect(self._search_words)
        self.search_button.clicked.connect(self._search_words)
        self.prompt_combo.activated.connect(self._search_prompt)
        self.similar_button.clicked.connect(self._similar)
        self.cancel_button.clicked.connect(self.cancelRequested)
        for combo in (self.sort_combo, self.class_combo):
            combo.currentIndexChanged.connect(lambda _i: self.viewChanged.emit())
        self.min_probability.valueChanged.connect(lambda _v: self.viewChanged.emit())
        self._prompt_set: PromptSet | None = None

    def _layout(self) -> None:
        search_row = QHBoxLayout()
        search_row.addWidget(self.query, 3)
        search_row.addWidget(self.search_button)
        search_row.addWidget(QLabel("or a prompt:"))
        search_row.addWidget(self.prompt_combo, 2)
        search_row.addWidget(self.similar_button)
        view_row = QHBoxLayout()
        view_row.addWidget(QLabel("Sort by"))
        view_row.addWidget(self.sort_combo)
        view_row.addWidget(QLabel("Show"))
        view_row.addWidget(self.class_combo)
        view_row.addWidget(self.min_probability)
        view_row.addStretch(1)
        view_row.addWidget(self.progress)
        view_row.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addLayout(search_row)
        layout.addLayout(view_row)
        layout.addWidget(self.status)
        layout.addWidget(self.grid, 1)

    def set_prompt_set(self, prompt_set: PromptSet | None) -> None:
        self._prompt_set = prompt_set
        items = prompt_set.items if prompt_set is not None else []
        self.prompt_combo.clear()
        self.prompt_combo.addItem("choose…", None)
        for item in items:
            self.prompt_combo.addItem(item.label, item.texts)
        self.class_combo.blockSignals(True)
        self.class_combo.clear()
        self.class_combo.addItem("all predicted classes", None)
        for index, item in enumerate(prompt_set.classes if prompt_set else []):
            self.class_combo.addItem(f"predicted: {item.label}", index)
        self.class_combo.blockSignals(False)

    def set_progress(self, done: int, total: int) -> None:
        running = done < total
        self.progress.setVisible(running)
        self.cancel_button.setVisible(running)
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)

    def sort_key(self) -> str:
        return self.sort_combo.currentData()

    def set_sort_key(self, key: str) -> None:
        self.sort_combo.setCurrentIndex(max(0, self.sort_combo.findData(key)))

    def only_class(self) -> int | None:
        return self.class_combo.currentData()

    def _search_words(self) -> None:
        text = self.query.text().strip()
        if text:
            self.searchRequested.emit(text)
        else:
            self.status.setText("Type some words to search for, or choose a prompt.")

    def _search_prompt(self, position: int) -> None:
        texts = self.prompt_combo.itemData(position)
        if texts:
            self.query.setText(self.prompt_combo.itemText(position))
            self.searchRequested.emit(tuple(texts))

    def _similar(self) -> None:
        name = self.grid.selected_name()
        if name is None:
            self.status.setText("Click an image first, then Find similar.")
        else:
            self.similarRequested.emit(name)
