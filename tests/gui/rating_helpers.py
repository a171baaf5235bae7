"""Helpers for the rating-mode tests: a second real window, waiting for ratable maps, and
collecting every text a reader can see."""

from __future__ import annotations

from pathlib import Path

import pyqtgraph as pg
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QMainWindow,
    QProgressBar,
    QToolBar,
    QWidget,
)

from tests.gui.main_window_helpers import MAPS_TIMEOUT_MS, wait_for_maps

FORBIDDEN = ("grad", "cam", "eclip", "medgrad", "grad-cam", "grad-eclip", "medgrad-eclip")


def open_window(qtbot, folder: Path, model_dir: Path):
    """A fresh real main window (own engine) on ``folder`` with the first maps shown."""
    from medgrad_desktop.qt.app import build_main_window, get_application

    get_application()
    main = build_main_window(device="cpu", cache_bytes=64 * 1024 * 1024)
    qtbot.addWidget(main)
    main.show()
    main.start(folder, model_dir)
    wait_for_maps(qtbot, main, sorted(folder.glob("*.png"))[0])
    return main


def wait_ratable(qtbot, controller, case: str | None = None) -> None:
    """Wait until the maps of the controller's current case and prompt are shown, ratable."""

    def ready() -> bool:
        return controller.maps_ready and (case is None or controller.case == case)

    qtbot.waitUntil(ready, timeout=MAPS_TIMEOUT_MS)


def _widget_texts(widget: QWidget) -> list[str]:
    texts = [
        widget.windowTitle(),
        widget.toolTip(),
        widget.statusTip(),
        widget.whatsThis(),
        widget.accessibleName(),
        widget.accessibleDescription(),
    ]
    if isinstance(widget, QLabel | QAbstractButton):
        texts.append(widget.text())
    if isinstance(widget, QGroupBox):
        texts.append(widget.title())
    if isinstance(widget, QLineEdit):
        texts += [widget.text(), widget.placeholderText()]
    if isinstance(widget, QComboBox):
        texts += [widget.itemText(i) for i in range(widget.count())]
    if isinstance(widget, QProgressBar):
        texts.append(widget.text())
    if isinstance(widget, QToolBar):
        texts += [a.text() for a in widget.actions()] + [a.toolTip() for a in widget.actions()]
    if isinstance(widget, QMainWindow):
        texts.append(widget.statusBar().currentMessage())
        texts += [a.text() for a in widget.menuBar().actions()]
    if isinstance(widget, pg.GraphicsView):
        texts += _scene_texts(widget.scene())
    return texts


def _scene_texts(scene) -> list[str]:
    texts = []
    for item in scene.items():
        if isinstance(item, pg.TextItem):
            texts.append(item.toPlainText())
        elif isinstance(item, pg.LabelItem):
            texts.append(item.text)
        elif isinstance(item, pg.AxisItem):
            texts.append(item.labelText)
        elif hasattr(item, "toPlainText"):
            texts.append(item.toPlainText())
    return texts


def visible_texts() -> dict[str, list[str]]:
    """Every text of every visible widget of the application, keyed by widget class/name."""
    found: dict[str, list[str]] = {}
    for widget in QApplication.allWidgets():
        if not widget.isVisible():
            continue
        texts = [t for t in _widget_texts(widget) if t]
        if texts:
            key = f"{type(widget).__name__}:{widget.objectName()}:{id(widget)}"
            found[key] = texts
    return found


def leaks(texts: dict[str, list[str]]) -> list[tuple[str, str]]:
    """(widget, text) pairs that contain a forbidden (method-revealing) word."""
    return [
        (key, text)
        for key, values in texts.items()
        for text in values
        if any(word in text.lower() for word in FORBIDDEN)
    ]
