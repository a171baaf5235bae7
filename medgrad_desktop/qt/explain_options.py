"""The Explanation menu: which variant of the maps (the model's forward pass or the Grad-ECLIP
authors' code) and which input geometry (square, keep aspect ratio, native size)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu

from medgrad_desktop.explain.geometry import GEOMETRIES, GEOMETRY_TITLES
from medgrad_desktop.explain.provenance import VARIANT_NOTES, VARIANT_TITLES, VARIANTS


class ExplainOptionsMenu(QObject):
    """Two exclusive groups of checkable actions; ``changed(variant, geometry)`` on a choice."""

    changed = Signal(str, str)

    def __init__(self, parent) -> None:
        super().__init__(parent)
        self.menu = QMenu("&Explanation", parent)
        self.menu.setObjectName("explanationMenu")
        self.menu.setToolTipsVisible(True)
        self.variant_actions = self._group("Maps computed with", VARIANTS, VARIANT_TITLES)
        for name, action in self.variant_actions.items():
            action.setToolTip(VARIANT_NOTES[name])
        self.menu.addSeparator()
        self.geometry_actions = self._group("Image geometry", GEOMETRIES, GEOMETRY_TITLES)
        self.set_options("model", "square")

    def _group(self, heading: str, names, titles) -> dict[str, QAction]:
        self.menu.addSection(heading)
        group = QActionGroup(self)
        group.setExclusive(True)
        actions = {}
        for name in names:
            action = QAction(titles[name], self)
            action.setCheckable(True)
            action.setData(name)
            action.triggered.connect(lambda _checked=False: self._emit())
            group.addAction(action)
            self.menu.addAction(action)
            actions[name] = action
        return actions

    @staticmethod
    def _checked(actions: dict[str, QAction]) -> str:
        return next(name for name, action in actions.items() if action.isChecked())

    def variant(self) -> str:
        return self._checked(self.variant_actions)

    def geometry(self) -> str:
        return self._checked(self.geometry_actions)

    def set_options(self, variant: str, geometry: str) -> None:
        """Check ``variant`` and ``geometry`` without emitting ``changed``."""
        self.variant_actions[variant].setChecked(True)
        self.geometry_actions[geometry].setChecked(True)

    def _emit(self) -> None:
        self.changed.emit(self.variant(), self.geometry())


def install_explain_options(window) -> ExplainOptionsMenu:
    """Add the Explanation menu to ``window`` (a ``MainWindow``), bound both ways to its view
    state's ``variant`` and ``geometry``."""
    state = window.state
    options = ExplainOptionsMenu(window)
    options.set_options(state.variant, state.geometry)
    window.add_mode_menu(options.menu)

    def choose(variant: str, geometry: str) -> None:
        state.variant, state.geometry = variant, geometry

    options.changed.connect(choose)
    state.events.variant.connect(lambda _v: options.set_options(state.variant, state.geometry))
    state.events.geometry.connect(lambda _g: options.set_options(state.variant, state.geometry))
    window.explain_options = options
    return options
