"""Panels for the registry's optional methods (LeGrad): View → "Show LeGrad panel", off by
default. Ticking it adds the method to what the engine computes and a panel beside the three
maps (linked zoom, same overlay settings); unticking removes both. Not during rating (the
session decides the methods then), and only for a model the method supports
(``method_availability``); otherwise the action is off with the reason as its tooltip."""

from __future__ import annotations

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction

from medgrad_desktop.explain.methods import all_methods, default_methods, method_title
from medgrad_desktop.qt.widgets.map_panel import MapPanel
from medgrad_desktop.qt.widgets.method_availability import method_availability

COLUMNS_WITH_EXTRA = 3


class OptionalPanels(QObject):
    """One checkable View-menu action per optional method of the registry."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.extra: dict[str, MapPanel] = {}
        self.actions: dict[str, QAction] = {}
        self.availability = method_availability(window)
        optional = [m for m in all_methods() if m not in default_methods()]
        if optional:
            window.actions.view_menu.addSeparator()
        for method in optional:
            action = QAction(f"Show {method_title(method)} panel", window)
            action.setCheckable(True)
            action.setObjectName(f"show_{method}_panel")
            action.setStatusTip(f"Add a {method_title(method)} map beside the three maps")
            action.toggled.connect(lambda on, m=method: self.set_shown(m, on))
            window.actions.view_menu.addAction(action)
            self.actions[method] = action
        window.state.events.rating_mode.connect(self._update_actions)
        self.availability.changed.connect(self._update_actions)
        self._update_actions()

    def _update_actions(self, _value=None) -> None:
        """Off during rating and for a model the method cannot explain (reason as tooltip);
        after rating the engine computes the viewer's methods again."""
        rating = self.window.state.rating_mode
        for method, action in self.actions.items():
            reason = self.availability.reason(method)
            if rating or (reason and self.availability.known):  # kept while a model answers
                action.setChecked(False)
            action.setEnabled(not rating and reason is None)
            action.setToolTip(reason or action.statusTip())
        if not rating:
            self.window.engine.methods = self.viewer_methods()

    def viewer_methods(self) -> tuple[str, ...]:
        """The default methods plus the optional panels shown."""
        shown = self.window.comparison.panels
        return (*default_methods(), *(m for m in self.extra if m in shown))

    def set_shown(self, method: str, shown: bool) -> None:
        comparison = self.window.comparison
        if shown and not self.window.state.rating_mode:
            panel = self.extra.get(method)
            if panel is None:
                panel = self._make_panel(method)
            comparison.panels[method] = panel
            panel.show()
        else:
            comparison.panels.pop(method, None)
            if method in self.extra:
                self.extra[method].hide()
        self._relayout()
        if not self.window.state.rating_mode:  # while rating, the session's methods stay
            self.window.engine.methods = self.viewer_methods()
            self.window.controller.request_view()

    def _make_panel(self, method: str) -> MapPanel:
        comparison = self.window.comparison
        panel = MapPanel(method_title(method))
        panel.view_box.setXLink(comparison.original.view_box)
        panel.view_box.setYLink(comparison.original.view_box)
        panel.hovered.connect(comparison.show_cursor)
        panel.resetRequested.connect(comparison.fit)
        panel.set_opacity(comparison.opacity)
        panel.set_overlay_visible(comparison.overlays_visible)
        image = comparison.original.image_item.image
        if image is not None:
            panel.set_image(image)
        self.extra[method] = panel
        return panel

    def _relayout(self) -> None:
        """Two columns for the original and three maps, three when an extra panel shows."""
        comparison = self.window.comparison
        grid = comparison.grid
        panels = comparison.all_panels()
        columns = COLUMNS_WITH_EXTRA if len(panels) > 4 else 2
        for panel in [*panels, *self.extra.values()]:
            grid.removeWidget(panel)
        for position, panel in enumerate(panels):
            grid.addWidget(panel, position // columns, position % columns)
