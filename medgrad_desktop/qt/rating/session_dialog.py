"""The coordinator's setup of a new rating session (method names are shown here, unblinded).

The default methods are ticked; optional ones (LeGrad, a fourth blinded panel D) are off and
can be ticked only when the open model supports them (the reason shows otherwise).

Paths are shown in full (elided in the middle, whole in the tooltip); each problem is shown
next to its field; the workload ("12 cases × 1 prompt × 3 maps = 36 ratings, about 4
minutes") follows every change.
"""

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
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QWidget,
)

from medgrad_desktop.errors import SessionError
from medgrad_desktop.explain.images import list_image_names
from medgrad_desktop.explain.method_names import METHOD_TITLES, METHODS, all_methods
from medgrad_desktop.explain.prompt_sets import PromptSet
from medgrad_desktop.qt.rating.path_field import PathField
from medgrad_desktop.qt.rating.session_dialog_layout import build_layout, error_label
from medgrad_desktop.review import RatingSession, SessionConfig, default_session_path
from medgrad_desktop.review.naming import SESSION_SUFFIX
from medgrad_desktop.review.session_config import DEFAULT_SCALE_LABELS

log = logging.getLogger(__name__)

NO_READER_PATH = "named after the reader id once it is entered"
FIELDS = ("study", "reader", "images", "prompt", "methods", "scale_labels", "seed", "path")


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
    file the coordinator chose to resume). ``field_errors[name]`` shows the problem of a field.
    """

    def __init__(
        self,
        parent: QWidget | None = None,
        folder: Path | None = None,
        prompt_set: PromptSet | None = None,
        display: dict[str, Any] | None = None,
        model_id: str = "",
        unavailable: dict[str, str] | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("New rating session")
        self.prompt_set, self.model_id = prompt_set, model_id
        self.display = dict(display or {})
        self.session: RatingSession | None = None
        self._path_chosen = False
        self.field_errors = {name: error_label() for name in FIELDS}

        self.study_edit = QLineEdit()
        self.study_edit.setPlaceholderText("e.g. PH2 pilot 2026 (required)")
        self.reader_edit = QLineEdit()
        self.reader_edit.setPlaceholderText("e.g. reader-01 or initials (any characters)")
        self.folder_radio = QRadioButton("Image folder")
        self.folder_field = PathField(self._choose_folder, "no folder chosen")
        self.folder_field.set_path(str(folder) if folder else "")
        self.list_radio = QRadioButton("Image list (text file, one path a line)")
        self.list_field = PathField(self._choose_list, "no list chosen")
        self.folder_radio.setChecked(True)
        self.image_count = QLabel()

        self.fixed_radio = QRadioButton("The same prompt for every case")
        self.fixed_combo = QComboBox()
        self.top_radio = QRadioButton("The top predicted class of each case")
        self.criteria_radio = QRadioButton("Each criterion prompt")
        self.fixed_radio.setChecked(True)
        self._fill_prompts()

        self.method_boxes = {m: QCheckBox(METHOD_TITLES[m]) for m in all_methods()}
        self.method_note = QLabel()
        self._offer_methods(unavailable or {})
        self.scale_edits = [QLineEdit(text) for text in DEFAULT_SCALE_LABELS]
        self.flag_box = QCheckBox('"Highlights the wrong region" flag')
        self.comment_box = QCheckBox("Optional comment per map")
        self.edits_box = QCheckBox("Readers may change a rating they gave")
        self.advance_box = QCheckBox("Go to the next case when every map is rated")
        for box in (self.flag_box, self.comment_box, self.edits_box, self.advance_box):
            box.setChecked(True)
        self.prediction_box = QCheckBox("Show the model's prediction while rating")
        self.prediction_box.setToolTip("Off by default: a visible prediction anchors readers.")

        self.seed_edit = QLineEdit(str(secrets.randbits(63)))
        self.seed_edit.setValidator(QRegularExpressionValidator(QRegularExpression(r"\d{1,19}")))
        self.new_seed = QPushButton("New seed")
        self.free_radio = QRadioButton("Free (what each reader uses is recorded with every rating)")
        self.fixed_display_radio = QRadioButton(self._display_text())
        self.free_radio.setChecked(True)
        self.path_field = PathField(self._choose_path, NO_READER_PATH)
        self.workload = QLabel()
        self.workload.setStyleSheet("font-weight: bold")

        self.error = error_label()
        self.open_existing = QPushButton("Open the existing session")
        self.open_existing.hide()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Create session")
        build_layout(self)
        self._connect()
        self._update_default_path()
        self._count_images()

    def _fill_prompts(self) -> None:
        labels = self.prompt_set.labels() if self.prompt_set else []
        self.fixed_combo.addItems(labels)
        self.fixed_combo.setEditable(not labels)
        criteria = self.criteria()
        name = self.prompt_set.name if self.prompt_set else "no prompt set"
        self.criteria_count = QLabel(f"{len(criteria)} criteria of {name}")
        self.criteria_radio.setEnabled(bool(criteria))
        self.top_radio.setEnabled(bool(self.prompt_set and self.prompt_set.class_indices()))

    def _offer_methods(self, unavailable: dict[str, str]) -> None:
        """Defaults ticked; optional methods off, and disabled where the model refuses them."""
        notes = []
        for method, box in self.method_boxes.items():
            box.setChecked(method in METHODS)
            reason = unavailable.get(method)
            if method not in METHODS:
                box.setToolTip(
                    reason or f"Optional: one more blinded panel showing the {box.text()} map."
                )
            if reason:
                box.setEnabled(False)
                notes.append(reason)
        self.method_note.setText(" ".join(notes))
        self.method_note.setWordWrap(True)
        self.method_note.setVisible(bool(notes))

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
        self.open_existing.clicked.connect(self.resume_existing)
        for field in (self.folder_field, self.list_field):
            field.changed.connect(self._count_images)
        self.folder_radio.toggled.connect(self._count_images)
        for radio in (self.fixed_radio, self.top_radio, self.criteria_radio):
            radio.toggled.connect(self._update_workload)
        for box in self.method_boxes.values():
            box.toggled.connect(self._update_workload)
        group = QButtonGroup(self)
        for radio in (self.folder_radio, self.list_radio):
            group.addButton(radio)

    def _update_default_path(self) -> None:
        """The suggested file follows study and reader until the coordinator picks one."""
        if self._path_chosen:
            return
        reader = self.reader_edit.text().strip()
        if not reader:
            self.path_field.set_path("")
            return
        study = self.study_edit.text().strip() or "study"
        self.path_field.set_path(str(default_session_path(study, reader)))

    # -- choices ----------------------------------------------------------------------------
    def _choose_folder(self, current: str) -> str:
        chosen = QFileDialog.getExistingDirectory(self, "Image folder", current)
        if chosen:
            self.folder_radio.setChecked(True)
        return chosen

    def _choose_list(self, _current: str) -> str:
        chosen, _ = QFileDialog.getOpenFileName(self, "Image list", "", "Text (*.txt);;All (*)")
        if chosen:
            self.list_radio.setChecked(True)
        return chosen

    def _choose_path(self, current: str) -> str:
        chosen, _ = QFileDialog.getSaveFileName(
            self, "Session file", current, f"Rating session (*{SESSION_SUFFIX})"
        )
        self._path_chosen = self._path_chosen or bool(chosen)
        return chosen

    def set_session_path(self, path: str | Path) -> None:
        """Choose the session file (as Browse… does)."""
        self._path_chosen = True
        self.path_field.set_path(str(path))

    def criteria(self) -> list[str]:
        return [item.label for item in self.prompt_set.criteria] if self.prompt_set else []

    def images(self) -> tuple[list[Path], Path | None]:
        """``(image paths, base folder or None)`` from the chosen source; SessionError if
        the folder or list cannot be read."""
        if self.folder_radio.isChecked():
            text = self.folder_field.path().strip()
            if not text:
                return [], None
            folder = Path(text).expanduser()
            try:
                return [folder / name for name in list_image_names(folder)], folder
            except OSError as error:
                raise SessionError(
                    f"The folder '{folder.name or folder}' cannot be read.", details=str(error)
                ) from error
        text = self.list_field.path().strip()
        return (read_image_list(Path(text).expanduser()) if text else []), None

    def _count_images(self) -> None:
        try:
            count = len(self.images()[0])
        except SessionError as error:
            self.image_count.setText(error.message)
        else:
            self.image_count.setText(f"{count} image(s)")
        self._update_workload()

    def _mode(self) -> str:
        if self.fixed_radio.isChecked():
            return "fixed"
        return "top_class" if self.top_radio.isChecked() else "criteria"

    def _update_workload(self) -> None:
        try:
            images = self.images()[0]
        except SessionError:
            images = []
        mode = self._mode()
        sketch = SessionConfig(
            reader="",
            images=images,
            prompt_mode=mode,
            criteria_prompts=self.criteria() if mode == "criteria" else (),
            methods=[m for m, box in self.method_boxes.items() if box.isChecked()],
        )
        self.workload.setText(sketch.workload()[1])

    def config(self) -> SessionConfig:
        """The setup as entered (not yet validated); SessionError if images can't be read."""
        images, base = self.images()
        mode = self._mode()
        fixed_display = self.fixed_display_radio.isChecked()
        display = (
            dict(self.display)
            if fixed_display
            else {k: v for k, v in self.display.items() if k == "entropy_radius"}
        )
        seed = self.seed_edit.text().strip()
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
            seed=int(seed) if seed else None,
            display_policy="fixed" if fixed_display else "free",
            display=display,
            model_id=self.model_id,
            allow_edits=self.edits_box.isChecked(),
            scale_labels=tuple(edit.text().strip() for edit in self.scale_edits),
            show_prediction=self.prediction_box.isChecked(),
            auto_advance=self.advance_box.isChecked(),
        )

    # -- accepting --------------------------------------------------------------------------
    def show_error(self, message: str, offer_open: bool = False) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))
        self.open_existing.setVisible(offer_open)

    def show_field_errors(self, problems: dict[str, str]) -> None:
        """Show each problem next to its field (and clear the others)."""
        for name, label in self.field_errors.items():
            label.setText(problems.get(name, ""))
            label.setVisible(name in problems)

    def _problems(self) -> tuple[dict[str, str], SessionConfig | None]:
        problems: dict[str, str] = {}
        config = None
        try:
            config = self.config()
            problems |= config.problems()
        except SessionError as error:
            problems["images"] = error.message
        if not self.seed_edit.text().strip():
            problems["seed"] = "Please enter a seed (a whole number) or press New seed."
        if not self.path_field.path().strip() and "reader" not in problems:
            problems["path"] = "Please choose where the session file goes."
        return problems, config

    def accept(self) -> None:
        """Validate, create the session file, then close; problems are shown in the dialog."""
        self.show_error("")
        problems, config = self._problems()
        self.show_field_errors(problems)
        if problems or config is None:
            self.show_error("Please correct the fields marked in red.")
            return
        path = Path(self.path_field.path().strip()).expanduser()
        if path.exists():
            self.show_error(
                f"A session file '{path.name}' already exists. Open it to resume that "
                "session, or choose another reader id or file.",
                offer_open=True,
            )
            return
        try:
            self.session = RatingSession.create(path, config.validated())
        except SessionError as error:
            log.info("Session not created: %s (%s)", error.message, error.details)
            self.show_error(error.message)
            return
        super().accept()

    def resume_existing(self) -> None:
        """Open the session file that already exists at the chosen path and close."""
        try:
            self.session = RatingSession.open(Path(self.path_field.path().strip()).expanduser())
        except SessionError as error:
            self.show_error(error.message)
            return
        super().accept()
