"""A path typed or chosen: a line edit and a "Choose…" button. The file dialog starts at the
field's own folder, else at the last folder used anywhere in the app, else at home."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLineEdit, QPushButton, QWidget

LAST_FOLDER_KEY = "paths/last_folder"
FOLDER, FILE = "folder", "file"


def last_folder() -> str:
    """Where file dialogs start: the last folder used, else the home folder."""
    folder = QSettings().value(LAST_FOLDER_KEY)
    if folder and Path(str(folder)).is_dir():
        return str(folder)
    return str(Path.home())


def remember_folder(path: Path) -> None:
    """Make ``path`` (a folder, or a file's folder) where the next file dialog starts."""
    path = Path(path)
    QSettings().setValue(LAST_FOLDER_KEY, str(path if path.is_dir() else path.parent))


class FolderField(QWidget):
    """``edit`` + ``button``; ``kind`` is ``FOLDER`` or ``FILE`` (with ``file_filter``, e.g.
    "CSV (*.csv)"). ``textChanged(text)`` follows typing and choosing alike."""

    textChanged = Signal(str)

    def __init__(
        self,
        title: str,
        text: str = "",
        *,
        kind: str = FOLDER,
        file_filter: str = "",
        placeholder: str = "",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.edit = QLineEdit(text)
        self.edit.setPlaceholderText(placeholder)
        self.button = QPushButton("Choose…")
        self.set_choice(title, kind, file_filter)
        self.edit.textChanged.connect(self.textChanged)
        self.button.clicked.connect(self.choose)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit, 1)
        layout.addWidget(self.button)

    def set_choice(self, title: str, kind: str = FOLDER, file_filter: str = "") -> None:
        """What "Choose…" asks for (a field whose meaning depends on another one)."""
        self.title, self.kind, self.file_filter = title, kind, file_filter
        self.button.setToolTip(title)

    def text(self) -> str:
        return self.edit.text()

    def setText(self, text: str) -> None:
        self.edit.setText(text)

    def start_folder(self) -> str:
        """The typed path's folder if it exists, else the last folder used, else home."""
        typed = Path(self.text().strip()).expanduser() if self.text().strip() else None
        for candidate in (typed, typed.parent if typed else None):
            if candidate is not None and candidate.is_dir():
                return str(candidate)
        return last_folder()

    def choose(self) -> None:
        """Ask with the system file dialog; a choice fills the field and is remembered."""
        start = self.start_folder()
        if self.kind == FOLDER:
            chosen = QFileDialog.getExistingDirectory(self, self.title, start)
        else:
            chosen, _ = QFileDialog.getOpenFileName(self, self.title, start, self.file_filter)
        if chosen:
            remember_folder(Path(chosen))
            self.setText(chosen)
