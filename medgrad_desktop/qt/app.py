"""Starting the viewer: QApplication, settings location, engine, window, and the self-test.

The window, the image list and the first image appear before torch is imported: the engine
imports its model side on the model thread, which then shows "Loading model…" until ready.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication

from medgrad_desktop.engine.api import DEFAULT_CACHE_BYTES
from medgrad_desktop.explain.method_names import METHODS
from medgrad_desktop.paths import APP_NAME
from medgrad_desktop.qt.engine_bridge import EngineBridge
from medgrad_desktop.qt.exception_hooks import ExceptionHooks
from medgrad_desktop.qt.main_window import MainWindow
from medgrad_desktop.qt.window_geometry import DEFAULT_SIZE

log = logging.getLogger(__name__)

ORGANISATION = "MedGrad"
SELF_TEST_TIMEOUT_S = 120
DEFAULT_WINDOW_SIZE = DEFAULT_SIZE
GUI_SWITCH_INTERVAL_S = 0.001
"""Shorter than Python's 5 ms default, so the GUI thread gets the GIL back quickly after each
Qt call while engine threads run Python code (fewer and shorter event-loop stalls)."""


def configure_application(app: QCoreApplication) -> None:
    """Names for QSettings; ``MEDGRAD_SETTINGS_DIR`` keeps settings in an INI file there."""
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APP_NAME)
    settings_dir = os.environ.get("MEDGRAD_SETTINGS_DIR")
    if settings_dir:
        QSettings.setDefaultFormat(QSettings.Format.IniFormat)
        QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, settings_dir)


_garbage_collector = None


def collect_garbage_in_gui_thread() -> None:
    """Python's cyclic garbage collection only on the GUI thread, on a timer (pyqtgraph's
    ``GarbageCollector``). Left automatic, a collection can start on whichever thread
    allocates — the model thread building a model — and destroy Qt objects there, which
    deadlocks against the GUI thread destroying others."""
    global _garbage_collector
    if _garbage_collector is None:
        from pyqtgraph.util.garbage_collector import GarbageCollector

        _garbage_collector = GarbageCollector(interval=1.0)


def get_application() -> QApplication:
    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_application(app)
    sys.setswitchinterval(GUI_SWITCH_INTERVAL_S)
    collect_garbage_in_gui_thread()
    return app


def build_main_window(
    device: str | None = None, cache_bytes: int = DEFAULT_CACHE_BYTES
) -> MainWindow:
    """A window with its own engine (the bridge is the engine's listener)."""
    from medgrad_desktop.engine.engine import ExplainEngine
    from medgrad_desktop.qt.browse.browse_menu import install_browse_menu
    from medgrad_desktop.qt.explain_options import install_explain_options
    from medgrad_desktop.qt.map_quality.map_quality_menu import install_map_quality_menu
    from medgrad_desktop.qt.rating.rating_menu import install_rating_mode
    from medgrad_desktop.qt.training.training_menu import install_training_menu
    from medgrad_desktop.qt.widgets.optional_panels import OptionalPanels

    bridge = EngineBridge()
    engine = ExplainEngine(bridge, cache_bytes=cache_bytes)
    window = MainWindow(engine, bridge, device=device)
    bridge.setParent(window)
    window.resize(*DEFAULT_WINDOW_SIZE)
    window.exception_hooks = ExceptionHooks(window.banner.show_message).install()
    install_explain_options(window)
    install_rating_mode(window)
    install_training_menu(window)
    install_browse_menu(window)
    install_map_quality_menu(window)
    OptionalPanels(window)
    return window


def seconds_since_launch() -> float:
    """Seconds since this process started (what a user waits from double-click to now)."""
    import psutil

    return time.time() - psutil.Process().create_time()


def module_imported(name: str) -> bool:
    """Whether ``name`` has finished importing (a module being imported is already listed in
    ``sys.modules`` but its spec says it is still initialising)."""
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    return module is not None and not getattr(spec, "_initializing", False)


class StartupTimes:
    """When the window, the first image and the first maps appeared (seconds after launch),
    and whether torch had been imported when the first image was shown."""

    def __init__(self, window: MainWindow) -> None:
        self.window_s = self.image_s = self.maps_s = None
        self.torch_before_image = None
        window.controller.imageShown.connect(self._on_image)
        window.controller.mapsShown.connect(self._on_maps)

    def window_shown(self) -> None:
        self.window_s = seconds_since_launch()

    def _on_image(self, _path, _with_maps: bool) -> None:
        if self.image_s is None:
            self.image_s = seconds_since_launch()
            self.torch_before_image = module_imported("torch")

    def _on_maps(self, _result) -> None:
        if self.maps_s is None:
            self.maps_s = seconds_since_launch()

    def summary(self) -> str:
        if None in (self.window_s, self.image_s, self.maps_s):
            return ""
        torch_note = "after" if self.torch_before_image else "before"
        return (
            f"window {self.window_s:.2f} s, first image {self.image_s:.2f} s ({torch_note} "
            f"torch was loaded), first maps {self.maps_s:.2f} s after launch"
        )


def _wait_for_first_maps(app: QApplication, window: MainWindow, timeout_s: float) -> str:
    """Run the event loop until the first image's three maps are shown; '' or a problem."""
    loop = QEventLoop()
    outcome = {"problem": f"No maps appeared within {timeout_s:.0f} seconds."}

    def finish(problem: str) -> None:
        outcome["problem"] = problem
        loop.quit()

    def on_maps(result) -> None:
        missing = [m for m in METHODS if m not in result.maps]
        finish(f"Maps missing: {', '.join(missing)}." if missing else "")

    window.controller.mapsShown.connect(on_maps)
    window.controller.modelFailed.connect(lambda message: finish(message))
    first = window.browser.current_path()

    def on_failed(_request_id, path, error) -> None:
        if path is None or path == first:  # a notice about another image is not fatal
            finish(error.message)

    window.bridge.sig_failed.connect(on_failed)
    QTimer.singleShot(int(timeout_s * 1000), loop.quit)
    loop.exec()
    return outcome["problem"]


def run_gui(
    folder: Path | None = None,
    model: str | Path = "demo",
    device: str | None = None,
    self_test: bool = False,
    screenshot: Path | None = None,
) -> int:
    """Open the viewer on ``folder`` (the demo folder if None); returns the exit code."""
    app = get_application()
    demo_problem = ""
    if folder is None:
        from medgrad_desktop.demo import ensure_demo_folder

        try:
            folder = ensure_demo_folder()
        except OSError as exc:
            log.error("Cannot create the demo images: %r", exc)
            demo_problem = (
                "The demo images could not be created in your user data folder "
                "(it may be full or read-only); open a folder of images to begin."
            )
    window = build_main_window(device=device)
    times = StartupTimes(window)
    if not self_test:
        window.restore_window_state()
    window.show()
    app.processEvents()  # paint the window before anything slow starts
    times.window_shown()
    window.start(Path(folder) if folder is not None else None, model)
    if demo_problem:
        window.banner.show_message(demo_problem)
    if not self_test:
        return app.exec()

    problem = demo_problem or _wait_for_first_maps(app, window, SELF_TEST_TIMEOUT_S)
    if not problem and screenshot is not None:
        app.processEvents()
        if not window.grab().save(str(screenshot)):
            problem = f"The screenshot could not be written to {screenshot}."
    window.close()
    if problem:
        print(f"Self-test failed: {problem}", file=sys.stderr)
        return 1
    print(f"Self-test passed: {times.summary()}.")
    if screenshot:
        print(f"Screenshot saved to {screenshot}")
    return 0
