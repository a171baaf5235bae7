"""A dialog to edit a prompt set and save it as YAML in the user's prompt folder."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from medgrad_desktop.errors import PromptSetError
from medgrad_desktop.explain.prompt_sets import (
    PromptSet,
    prompt_set_from_mapping,
    save_prompt_set,
    user_copy_path,
)

log = logging.getLogger(__name__)

COLUMNS = ("Label", "Texts (synonyms separated by ;)", "Kind", "High-risk")
POINTS_ROLE = Qt.ItemDataRole.UserRole + 1


class PromptSetEditor(QDialog):
    """Edit labels, synonym texts, kind and high-risk flags; Save writes a user copy."""

    def __init__(self, prompt_set: PromptSet, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Edit prompt set")
        self.resize(760, 480)
        self.saved_path: Path | None = None
        self.name_edit = QLineEdit(prompt_set.name)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        for item in prompt_set.items:
            self.add_row(item.label, "; ".join(item.texts), item.kind, item.high_risk, item.points)

        add, remove = QPushButton("Add prompt"), QPushButton("Remove selected")
        add.clicked.connect(lambda: self.add_row("", "", "class", False, None))
        remove.clicked.connect(self._remove_selected)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)

        form = QFormLayout()
        form.addRow("Name", self.name_edit)
        row = QHBoxLayout()
        row.addWidget(add)
        row.addWidget(remove)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.table, 1)
        layout.addLayout(row)
        layout.addWidget(buttons)

    def add_row(
        self, label: str, texts: str, kind: str, high_risk: bool, points: int | None
    ) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        label_item = QTableWidgetItem(label)
        label_item.setData(POINTS_ROLE, points)
        self.table.setItem(row, 0, label_item)
        self.table.setItem(row, 1, QTableWidgetItem(texts))
        kind_combo = QComboBox()
        kind_combo.addItems(["class", "criterion"])
        kind_combo.setCurrentText(kind)
        self.table.setCellWidget(row, 2, kind_combo)
        risk = QTableWidgetItem()
        risk.setFlags(Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsEnabled)
        risk.setCheckState(Qt.CheckState.Checked if high_risk else Qt.CheckState.Unchecked)
        self.table.setItem(row, 3, risk)

    def _remove_selected(self) -> None:
        for row in sorted({index.row() for index in self.table.selectedIndexes()}, reverse=True):
            self.table.removeRow(row)

    def to_mapping(self) -> dict:
        """The table as a prompt-set mapping (the YAML layout)."""
        entries: dict[str, list] = {"class": [], "criterion": []}
        for row in range(self.table.rowCount()):
            label_item, texts_item = self.table.item(row, 0), self.table.item(row, 1)
            label = label_item.text().strip() if label_item else ""
            texts = [t.strip() for t in (texts_item.text() if texts_item else "").split(";")]
            entry: dict = {"label": label, "prompts": [t for t in texts if t] or [label]}
            if self.table.item(row, 3).checkState() == Qt.CheckState.Checked:
                entry["high_risk"] = True
            points = label_item.data(POINTS_ROLE) if label_item else None
            if points is not None:
                entry["points"] = points
            entries[self.table.cellWidget(row, 2).currentText()].append(entry)
        return {
            "name": self.name_edit.text().strip(),
            "classes": entries["class"],
            "criteria": entries["criterion"],
        }

    def save(self) -> None:
        """Validate, write to the user prompt folder and close; a problem is shown in a dialog."""
        try:
            prompt_set = prompt_set_from_mapping(self.to_mapping(), "the edited prompt set")
            self.saved_path = save_prompt_set(prompt_set, user_copy_path(prompt_set.name))
        except PromptSetError as error:
            log.warning("Prompt set not saved: %s (%s)", error.message, error.details)
            QMessageBox.warning(self, "Prompt set not saved", error.message)
            return
        except OSError as error:
            log.error("Writing the prompt set failed: %r", error)
            QMessageBox.warning(
                self,
                "Prompt set not saved",
                "The prompt set could not be written to your data folder.",
            )
            return
        self.accept()
