"""How the session setup dialog is arranged: who and what on the left, the scale, options
and blinding on the right, the file and workload below; each field with its error line."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)


def error_label() -> QLabel:
    label = QLabel()
    label.setWordWrap(True)
    label.setStyleSheet("color: #b00020")
    label.hide()
    return label


def with_error(widget: QWidget, error: QLabel) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(1)
    layout.addWidget(widget)
    layout.addWidget(error)
    return box


def build_layout(dialog) -> None:
    """Lay out the widgets of ``dialog`` (a ``SessionDialog``)."""
    errors = dialog.field_errors
    who = QFormLayout()
    who.addRow("Study name", with_error(dialog.study_edit, errors["study"]))
    who.addRow("Reader id", with_error(dialog.reader_edit, errors["reader"]))

    images = QGroupBox("Images")
    image_form = QFormLayout(images)
    image_form.addRow(dialog.folder_radio, dialog.folder_field)
    image_form.addRow(dialog.list_radio, dialog.list_field)
    image_form.addRow("", with_error(dialog.image_count, errors["images"]))

    prompts = QGroupBox("Prompt rated for each case")
    prompt_form = QFormLayout(prompts)
    prompt_form.addRow(dialog.fixed_radio, dialog.fixed_combo)
    prompt_form.addRow(dialog.top_radio)
    prompt_form.addRow(dialog.criteria_radio, dialog.criteria_count)
    prompt_form.addRow(errors["prompt"])

    methods = QGroupBox("Methods (readers see them only as panels A, B, C…)")
    method_layout = QVBoxLayout(methods)
    method_row = QHBoxLayout()
    for box in dialog.method_boxes.values():
        method_row.addWidget(box)
    method_row.addStretch(1)
    method_layout.addLayout(method_row)
    method_layout.addWidget(dialog.method_note)
    method_layout.addWidget(errors["methods"])

    scale = QGroupBox("Rating scale (what readers see next to the 1–5 buttons)")
    scale_form = QFormLayout(scale)
    for score, edit in enumerate(dialog.scale_edits, start=1):
        scale_form.addRow(f"{score} =", edit)
    scale_form.addRow(errors["scale_labels"])
    options = QGroupBox("While rating")
    option_box = QVBoxLayout(options)
    for box in (
        dialog.flag_box,
        dialog.comment_box,
        dialog.edits_box,
        dialog.advance_box,
        dialog.prediction_box,
    ):
        option_box.addWidget(box)

    blinding = QGroupBox("Blinding")
    blinding_form = QFormLayout(blinding)
    note = QLabel(
        "Panels are titled A, B, C (and D); which method each shows, and the order of the "
        "cases, are shuffled per case and reader from this seed (stored in the file)."
    )
    note.setWordWrap(True)
    blinding_form.addRow(note)
    seed_row = QWidget()
    seed_layout = QHBoxLayout(seed_row)
    seed_layout.setContentsMargins(0, 0, 0, 0)
    seed_layout.addWidget(dialog.seed_edit, 1)
    seed_layout.addWidget(dialog.new_seed)
    blinding_form.addRow("Seed", with_error(seed_row, errors["seed"]))

    display = QGroupBox("Display settings")
    display_form = QVBoxLayout(display)
    display_form.addWidget(dialog.free_radio)
    display_form.addWidget(dialog.fixed_display_radio)

    file_form = QFormLayout()
    file_form.addRow("Session file", with_error(dialog.path_field, errors["path"]))
    file_form.addRow("Workload", dialog.workload)

    left, right = QVBoxLayout(), QVBoxLayout()
    left.addLayout(who)
    for group in (images, prompts, methods, display):
        left.addWidget(group)
    for group in (scale, options, blinding):
        right.addWidget(group)
    left.addStretch(1)
    right.addStretch(1)
    columns = QHBoxLayout()
    columns.addLayout(left, 1)
    columns.addLayout(right, 1)
    layout = QVBoxLayout(dialog)
    layout.addLayout(columns)
    layout.addLayout(file_form)
    layout.addWidget(dialog.error)
    layout.addWidget(dialog.open_existing)
    layout.addWidget(dialog.buttons)
