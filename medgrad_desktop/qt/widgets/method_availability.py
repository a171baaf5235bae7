"""Which attribution methods the open model supports, asked once per loaded model.

The one answer the viewer's optional panels and the rating-session setup read: each opened
model is asked on the model thread (``explain.methods.unavailable_methods``, e.g. LeGrad is
refused for open_clip towers) and ``changed`` follows on the GUI thread.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal

from medgrad_desktop.qt.browse.model_call import ModelCall

NO_MODEL_REASON = "Open a model first: whether {title} can explain it depends on the model."
TAG = "method availability"


def _ask(bundle) -> dict[str, str]:
    from medgrad_desktop.explain.methods import unavailable_methods

    return unavailable_methods(bundle)


class MethodAvailability(QObject):
    """``reason(method)`` is None when the open model supports ``method``; until a model is
    open and has answered, optional methods are held back with a plain reason."""

    changed = Signal()

    def __init__(self, window) -> None:
        super().__init__(window)
        self.setObjectName("methodAvailability")
        self.window = window
        self.unavailable: dict[str, str] | None = None  # None: no model has answered yet
        self._call = ModelCall(self)
        self._call.done.connect(self._on_answer)
        self._call.failed.connect(lambda _tag, _message: self._on_answer(_tag, None))
        window.bridge.sig_model_loaded.connect(self._on_model_loaded)

    @property
    def known(self) -> bool:
        return self.unavailable is not None

    def reason(self, method: str) -> str | None:
        """Why ``method`` cannot be used now (a plain sentence), or None when it can."""
        from medgrad_desktop.explain.methods import default_methods, method_title

        if self.unavailable is None:
            if method in default_methods():
                return None
            return NO_MODEL_REASON.format(title=method_title(method))
        return self.unavailable.get(method)

    def _on_model_loaded(self, _info) -> None:
        self.unavailable = None
        self.changed.emit()
        self._call.run(self.window.engine, _ask, TAG)

    def _on_answer(self, _tag: str, unavailable: dict[str, str] | None) -> None:
        self.unavailable = dict(unavailable) if unavailable is not None else None
        self.changed.emit()


def method_availability(window) -> MethodAvailability:
    """The window's ``MethodAvailability`` (created on first use)."""
    found = window.findChild(MethodAvailability, "methodAvailability")
    return found if found is not None else MethodAvailability(window)
