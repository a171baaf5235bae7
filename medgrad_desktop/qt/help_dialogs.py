"""Help → Keyboard shortcuts (from the window's actions), User guide (local HTML), About."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QTextBrowser, QVBoxLayout, QWidget

from medgrad_desktop import RESEARCH_NOTICE, __version__
from medgrad_desktop.paths import resource_path

GUIDE_PATH = ("guide", "index.html")


def shortcut_rows(actions: list[QAction]) -> list[tuple[str, str]]:
    """(action text, its shortcuts) for every action that has one, in menu order."""
    rows = []
    for action in actions:
        keys = [k.toString(QKeySequence.SequenceFormat.NativeText) for k in action.shortcuts()]
        if keys:
            rows.append((action.text().replace("&", "").rstrip("…"), ", ".join(keys)))
    return rows


def _html_dialog(parent: QWidget, title: str, html: str = "", url: QUrl | None = None) -> QDialog:
    dialog = QDialog(parent)
    dialog.setWindowTitle(title)
    browser = QTextBrowser(dialog)
    browser.setOpenExternalLinks(True)
    if url is not None:
        browser.setSource(url)
    else:
        browser.setHtml(html)
    buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, dialog)
    buttons.rejected.connect(dialog.reject)
    layout = QVBoxLayout(dialog)
    layout.addWidget(browser)
    layout.addWidget(buttons)
    dialog.browser = browser
    dialog.resize(620, 560)
    return dialog


def shortcuts_dialog(parent: QWidget, actions: list[QAction]) -> QDialog:
    rows = "".join(
        f"<tr><td>{text}</td><td><b>{keys}</b></td></tr>" for text, keys in shortcut_rows(actions)
    )
    html = (
        "<h3>Keyboard shortcuts</h3><p>They work wherever the focus is, except while "
        f"typing in a text field.</p><table cellpadding='4'>{rows}</table>"
    )
    dialog = _html_dialog(parent, "Keyboard shortcuts", html)
    dialog.setObjectName("shortcutsDialog")
    dialog.resize(460, 520)
    return dialog


def user_guide_dialog(parent: QWidget) -> QDialog:
    url = QUrl.fromLocalFile(str(resource_path(*GUIDE_PATH)))
    dialog = _html_dialog(parent, "MedGrad Desktop — user guide", url=url)
    dialog.setObjectName("userGuideDialog")
    return dialog


def about_html() -> str:
    return (
        f"<b>MedGrad Desktop {__version__}</b><p>Compare Grad-CAM, Grad-ECLIP and "
        "MedGrad-ECLIP maps of CLIP models on skin-lesion images, rate them in blinded "
        f"sessions and fine-tune models.</p><p><b>{RESEARCH_NOTICE}</b></p>"
    )
