"""All window actions from one factory, and the menus and toolbar built from them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar


@dataclass
class WindowActions:
    """The main window's actions; ``recent_menu`` lists recent folders."""

    open_folder: QAction
    open_model: QAction
    edit_prompt_set: QAction
    export_png: QAction
    quit: QAction
    next_image: QAction
    previous_image: QAction
    toggle_overlays: QAction
    about: QAction
    recent_menu: QMenu
    view_menu: QMenu
    toolbar: QToolBar
    reset_zoom: QAction
    zoom_in: QAction
    zoom_out: QAction
    follow_top_class: QAction
    shortcuts: QAction
    user_guide: QAction
    help_menu: QMenu


def _action(window: QMainWindow, text: str, slot: Callable, shortcuts=(), tip: str = "") -> QAction:
    action = QAction(text, window)
    action.setShortcuts([QKeySequence(s) for s in shortcuts])
    action.setStatusTip(tip or text)
    action.setToolTip(tip or text)
    action.triggered.connect(lambda _checked=False: slot())
    window.addAction(action)  # shortcuts work wherever the focus is in the window
    return action


def build_actions(window) -> WindowActions:
    """Create the actions, the menus and the toolbar of ``window`` (a ``MainWindow``)."""
    open_folder = _action(
        window, "Open folder…", window.choose_folder, ["Ctrl+O"], "Open a folder of images"
    )
    open_model = _action(
        window,
        "Open model…",
        window.choose_model,
        ["Ctrl+M"],
        "Open a CLIP model (Hugging Face folder or .pth/.pt file)",
    )
    edit_prompts = _action(
        window,
        "Prompt set…",
        window.edit_prompt_set,
        ["Ctrl+P"],
        "Edit the prompt set and save your copy",
    )
    export_png = _action(
        window,
        "Export PNG…",
        window.choose_export_path,
        ["Ctrl+E"],
        "Save the comparison as a PNG picture",
    )
    quit_action = _action(window, "Quit", window.close, ["Ctrl+Q"])
    next_image = _action(
        window, "Next image", lambda: window.step_image(1), ["Down", "Right", "PgDown"]
    )
    previous_image = _action(
        window, "Previous image", lambda: window.step_image(-1), ["Up", "Left", "PgUp"]
    )
    toggle = _action(
        window, "Show overlays", window.toggle_overlays, ["Space"], "Show or hide the map overlays"
    )
    toggle.setCheckable(True)
    toggle.setChecked(True)
    about = _action(window, "About MedGrad Desktop", window.show_about)
    reset_zoom = _action(
        window, "Reset zoom", window.comparison.fit, ["Home"], "Show the whole image again"
    )
    zoom_in = _action(
        window, "Zoom in", lambda: window.comparison.zoom_by(1.25), ["Ctrl++", "Ctrl+="]
    )
    zoom_out = _action(window, "Zoom out", lambda: window.comparison.zoom_by(0.8), ["Ctrl+-"])
    follow = _action(
        window,
        "Follow the top class",
        lambda: window.state.update({"follow_top_class": follow.isChecked()}),
        (),
        "Show each image's maps for its most probable class",
    )
    follow.setCheckable(True)
    shortcuts = _action(window, "Keyboard shortcuts", window.show_shortcuts, ["Ctrl+/"])
    guide = _action(window, "User guide", window.show_user_guide, ["F1"])

    menubar = window.menuBar()
    file_menu = menubar.addMenu("&File")
    file_menu.addAction(open_folder)
    recent_menu = file_menu.addMenu("Recent folders")
    file_menu.addAction(open_model)
    file_menu.addAction(export_png)
    file_menu.addSeparator()
    file_menu.addAction(quit_action)
    view_menu = menubar.addMenu("&View")
    for action in (previous_image, next_image, toggle, follow):
        view_menu.addAction(action)
    view_menu.addSeparator()
    for action in (reset_zoom, zoom_in, zoom_out):
        view_menu.addAction(action)
    prompt_menu = menubar.addMenu("&Prompts")
    prompt_menu.addAction(edit_prompts)
    help_menu = menubar.addMenu("&Help")
    for action in (shortcuts, guide, about):
        help_menu.addAction(action)

    toolbar = QToolBar("Main")
    toolbar.setObjectName("mainToolbar")
    toolbar.setMovable(False)
    for action in (open_folder, open_model, edit_prompts, export_png, reset_zoom):
        toolbar.addAction(action)
    window.addToolBar(toolbar)
    return WindowActions(
        open_folder,
        open_model,
        edit_prompts,
        export_png,
        quit_action,
        next_image,
        previous_image,
        toggle,
        about,
        recent_menu,
        view_menu,
        toolbar,
        reset_zoom=reset_zoom,
        zoom_in=zoom_in,
        zoom_out=zoom_out,
        follow_top_class=follow,
        shortcuts=shortcuts,
        user_guide=guide,
        help_menu=help_menu,
    )


def add_mode_menu(window: QMainWindow, actions: WindowActions, menu: QMenu) -> None:
    """The hook for other modes (rating sessions, training): put ``menu`` in the menu bar
    before Help and in the toolbar as a drop-down entry."""
    menubar = window.menuBar()
    help_action = menubar.actions()[-1]
    menubar.insertMenu(help_action, menu)
    actions.toolbar.addAction(menu.menuAction())
