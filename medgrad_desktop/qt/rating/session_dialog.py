"""The coordinator's setup of a new rating session (method names are shown here, unblinded)."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

from PySide6.QtCore import QRegularExpression
from PySide6.QtGui import QRegularExpressionValidator
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from medgrad_desktop.errors import SessionError
from medgrad_desktop.explain.images import list_image_names
from medgrad_desktop.explain.method_names import METHOD_TITLES, METHODS
from medgrad_desktop.explain.prompt_sets import PromptSet
from medgrad_desktop.review import RatingSession, SessionConfig, default_session_path
from medgrad_desktop.review.naming import SESSION_SUFFIX

log = logging.getLogger(__name__)


def _row(*widgets: QWidget, stretch_first: bool = True) -> QWidget:
    box = QWidget()
    layout = QHBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    for position, widget in enumerate(widgets):
        layout.addWidget(widget, 1 if position == 0 and stretch_first else 0)
    return box


def read_image_list(list_file: Path) -> list[Path]:
    """Image paths from a text file, one per line; relative lines are relative to its folder."""
    try:
        lines = list_file.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as error:
        raise SessionError(
            f"The image list '{list_file.name}' cannot be read.", details=f"{error} ({list_file})"
        ) from error
    return [
        (list_file.parent / line.strip()).absolute()
        if not Path(line.strip()).is_absolute()
        else Path(line.strip())
        for line in lines
        if line.strip() and not line.lstrip().startswith("#")
    ]


class SessionDialog(QDialog):
    """Fills a ``SessionConfig`` and creates the session file on Create.

    After ``accept`` the open ``session`` is ready for rating mode (created, or the existing
    file the coordinator chose to resume).
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        folder: Path | None = None,
        prompt_set: PromptSet | None = None,
        display: dict[str, Any] | None = None,
        model_id: str = "",
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New rating session")
        self.prompt_set, self.model_id = prompt_set, model_id
        self.display = dict(display or {})
        self.session: RatingSession | None = None
        self._path_edited = False

        self.study_edit = QLineEdit("default")
        self.reader_edit = QLineEdit()
        self.reader_edit.setPlaceholderText("e.g. reader-01 or initials (any characters)")
        self.folder_radio = QRadioButton("Image folder")
        self.folder_edit = QLineEdit(str(folder) if folder else "")
        self.list_radio = QRadioButton("Image list (text file, one path a line)")
        self.list_edit = QLineEdit()
        self.folder_radio.setChecked(True)
        self.image_count = QLabel()

        self.fixed_radio = QRadioButton("The same prompt for every case")
        self.fixed_combo = QComboBox()
        self.top_radio = QRadioButton("The top predicted class of each case")
        self.criteria_radio = QRadioButton("Each criterion prompt")
        self.fixed_radio.setChecked(True)
        self._fill_prompts()

        self.method_boxes = {m: QCheckBox(METHOD_TITLES[m]) for m in METHODS}
        for box in self.method_boxes.values():
            box.setChecked(True)
        self.flag_box = QCheckBox('"Highlights the wrong region" flag')
        self.flag_box.setChecked(True)
        self.comment_box = QCheckBox("Optional comment per map")
        self.comment_box.setChecked(True)
        self.edits_box = QCheckBox("Readers may change a rating they gave")
        self.edits_box.setChecked(True)

        self.seed_edit = QLineEdit(str(secrets.randbits(63)))
        self.seed_edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{1,19}")))
        self.new_seed = QPushButton("New seed")
        self.free_radio = QRadioButton("Free (what each reader uses is recorded with every rating)")
        self.fixed_display_radio = QRadioButton(self._display_text())
        self.free_radio.setChecked(True)
        self.path_edit = QLineEdit()

        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b00020")
        self.error.hide()
        self.open_existing = QPushButton("Open the existing session")
        self.open_existing.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create session")
        self._build_layout()
        self._connect()
        self._update_default_path()
        self._count_images()

    # -- layout ---------------------------------------------------------------------------
    def _build_layout(self) -> None:
        who = QFormLayout()
        who.addRow("Study name", self.study_edit)
        who.addRow("Reader id", self.reader_edit)

        browse_folder, browse_list, browse_path = (QPushButton("Browse…") for _ in range(3))
        browse_folder.clicked.connect(self._choose_folder)
        browse_list.clicked.connect(self._choose_list)
        browse_path.clicked.connect(self._choose_path)
        images = QGroupBox("Images")
        image_form = QFormLayout(images)
        image_form.addRow(self.folder_radio, _row(self.folder_edit, browse_folder))
        image_form.addRow(self.list_radio, _row(self.list_edit, browse_list))
        image_form.addRow("", self.image_count)

        prompts = QGroupBox("Prompt rated for each case")
        prompt_form = QFormLayout(prompts)
        prompt_form.addRow(self.fixed_radio, self.fixed_combo)
        prompt_form.addRow(self.top_radio)
        prompt_form.addRow(self.criteria_radio, self.criteria_count)

        methods = QGroupBox("Methods (readers see them only as panels A, B, C)")
        method_row = QHBoxLayout(methods)
        for box in self.method_boxes.values():
            method_row.addWidget(box)
        method_row.addStretch(1)

        scale = QGroupBox("Rating")
        scale_form = QVBoxLayout(scale)
        scale_form.addWidget(QLabel("Likert scale 1 (poor) to 5 (excellent) for every map"))
        for box in (self.flag_box, self.comment_box, self.edits_box):
            scale_form.addWidget(box)

        blinding = QGroupBox("Blinding")
        blinding_form = QFormLayout(blinding)
        blinding_form.addRow(
            QLabel(
                "Panels are titled A, B, C; which method each shows, and the order of the "
                "cases, are shuffled per case and reader from this seed (stored in the file)."
            )
        )
        blinding_form.itemAt(0).widget().setWordWrap(True)
        blinding_form.addRow("Seed", _row(self.seed_edit, self.new_seed))

        display = QGroupBox("Display settings")
        display_form = QVBoxLayout(display)
        display_form.addWidget(self.free_radio)
        display_form.addWidget(self.fixed_display_radio)

        file_form = QFormLayout()
        file_form.addRow("Session file", _row(self.path_edit, browse_path))

        left, right = QVBoxLayout(), QVBoxLayout()
        left.addLayout(who)
        for group in (images, prompts, methods):
            left.addWidget(group)
        for group in (scale, blinding, display):
            right.addWidget(group)
        left.addStretch(1)
        right.addStretch(1)
        columns = QHBoxLayout()
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(columns)
        layout.addLayout(file_form)
        layout.addWidget(self.error)
        layout.addWidget(self.open_existing)
        layout.addWidget(self.buttons)

    def _fill_prompts(self) -> None:
        labels = self.prompt_set.labels() if self.prompt_set else []
        self.fixed_combo.addItems(labels)
        self.fixed_combo.setEditable(not labels)
        criteria = self.criteria()
        name = self.prompt_set.name if self.prompt_set else "no prompt set"
        self.criteria_count = QLabel(f"{len(criteria)} criteria of {name}")
        self.criteria_radio.setEnabled(bool(criteria))
        self.top_radio.setEnabled(bool(self.prompt_set and self.prompt_set.class_indices()))

    def _display_text(self) -> str:
        d = self.display
        if not d:
            return "Fixed for the session (as set now in the window)"
        return (
            f"Fixed for the session: opacity {round(float(d['opacity']) * 100)} %, colormap "
            f"{d['colormap']}, entropy radius {d['entropy_radius']} px"
        )

    def _connect(self) -> None:
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.new_seed.clicked.connect(lambda: self.seed_edit.setText(str(secrets.randbits(63))))
        self.study_edit.textChanged.connect(self._update_default_path)
        self.reader_edit.textChanged.connect(self._update_default_path)
        self.path_edit.textEdited.connect(self._mark_path_edited)
        self.open_existing.clicked.connect(self.resume_existing)
        for widget in (self.folder_edit, self.list_edit):
            widget.textChanged.connect(self._count_images)
        self.folder_radio.toggled.connect(self._count_images)
        group = QButtonGroup(self)
        for radio in (self.folder_radio, self.list_radio):
            group.addButton(radio)

    def _mark_path_edited(self) -> None:
        self._path_edited = True

    def _update_default_path(self) -> None:
        if not self._path_edited:
            study = self.study_edit.text().strip() or "default"
            reader = self.reader_edit.text().strip() or "reader"
            self.path_edit.setText(str(default_session_path(study, reader)))

    # -- choices ----------------------------------------------------------------------------
    def _choose_folder(self) -> None:
        chosen = QFileDialog.getExistingDirectory(self, "Image folder", self.folder_edit.text())
        if chosen:
            self.folder_edit.setText(chosen)
            self.folder_radio.setChecked(True)

    def _choose_list(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(self, "Image list", "", "Text (*.txt);;All (*)")
        if chosen:
            self.list_edit.setText(chosen)
            self.list_radio.setChecked(True)

    def _choose_path(self) -> None:
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Session file", self.path_edit.text(), f"Rating session (*{SESSION_SUFFIX})"
        )
        if chosen:
            self.path_edit.setText(chosen)
            self._path_edited = True

    def criteria(self) -> list[str]:
        return [item.label for item in self.prompt_set.criteria] if self.prompt_set else []

    def images(self) -> tuple[list[Path], Path | None]:
        """``(image paths, base folder or None)`` from the chosen source; SessionError if
        the folder or list cannot be read."""
        if self.folder_radio.isChecked():
            text = self.folder_edit.text().strip()
            if not text:
                return [], None
            folder = Path(text).expanduser()
            try:
                return [folder / name for name in list_image_names(folder)], folder
            except OSError as error:
                raise SessionError(
                    f"The folder '{folder.name or folder}' cannot be read.", details=str(error)
                ) from error
        text = self.list_edit.text().strip()
        return (read_image_list(Path(text).expanduser()) if text else []), None

    def _count_images(self) -> None:
        try:
            count = len(self.images()[0])
        except SessionError as error:
            self.image_count.setText(error.message)
            return
        self.image_count.setText(f"{count} image(s)")

    def config(self) -> SessionConfig:
        """The setup as entered (not yet validated)."""
        images, base = self.images()
        mode = (
            "fixed"
            if self.fixed_radio.isChecked()
            else ("top_class" if self.top_radio.isChecked() else "criteria")
        )
        if not self.seed_edit.text().strip():
            raise SessionError("Please enter a seed (a whole number) or press New seed.")
        fixed_display = self.fixed_display_radio.isChecked()
        display = (
            dict(self.display)
            if fixed_display
            else {k: v for k, v in self.display.items() if k == "entropy_radius"}
        )
        return SessionConfig(
            reader=self.reader_edit.text().strip(),
            images=images,
            base_folder=base,
            study=self.study_edit.text().strip(),
            prompt_mode=mode,
            fixed_prompt=self.fixed_combo.currentText().strip() if mode == "fixed" else "",
            criteria_prompts=self.criteria() if mode == "criteria" else (),
            methods=[m for m, box in self.method_boxes.items() if box.isChecked()],
            flag_wrong_region=self.flag_box.isChecked(),
            comments=self.comment_box.isChecked(),
            seed=int(self.seed_edit.text()),
            display_policy="fixed" if fixed_display else "free",
            display=display,
            model_id=self.model_id,
            allow_edits=self.edits_box.isChecked(),
        )

    # -- accepting --------------------------------------------------------------------------
    def show_error(self, message: str, offer_open: bool = False) -> None:
        self.error.setText(message)
        self.error.show()
        self.open_existing.setVisible(offer_open)

    def accept(self) -> None:
        """Validate, create the session file, then close; problems are shown in the dialog."""
        self.open_existing.hide()
        try:
            config = self.config().validated()
            path = Path(self.path_edit.text().strip()).expanduser()
            if not self.path_edit.text().strip():
                raise SessionError("Please choose where the session file goes.")
            if path.exists():
                self.show_error(
                    f"A session file '{path.name}' already exists. Open it to resume that "
                    "session, or choose another reader id or file.",
                    offer_open=True,
                )
                return
            self.session = RatingSession.create(path, config)
        except SessionError as error:
            log.info("Session not created: %s (%s)", error.message, error.details)
            self.show_error(error.message)
            return
        super().accept()

    def resume_existing(self) -> None:
        """Open the session file that already exists at the chosen path and close."""
        try:
            self.session = RatingSession.open(Path(self.path_edit.text().strip()).expanduser())
        except SessionError as error:
            self.show_error(error.message)
            return
        super().accept()
