"""Two-way binding of a ``ViewState`` field to a widget: the one way widgets follow the state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, SignalInstance

from medgrad_desktop.engine.view_state import ViewState


def bind(
    state: ViewState,
    field: str,
    widget: QObject,
    changed: SignalInstance,
    show: Callable[[Any], None],
    to_state: Callable[[Any], Any] = lambda value: value,
) -> None:
    """``show(value)`` puts the state's value into ``widget`` (now and on every change, with
    the widget's signals blocked so it does not echo); the widget's ``changed`` signal writes
    ``to_state(argument)`` back into the state."""

    def from_state(value: Any) -> None:
        blocked = widget.blockSignals(True)
        try:
            show(value)
        finally:
            widget.blockSignals(blocked)

    getattr(state.events, field).connect(from_state)
    changed.connect(lambda *args: setattr(state, field, to_state(*args)))
    from_state(getattr(state, field))
