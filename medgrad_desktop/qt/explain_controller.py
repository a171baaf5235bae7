"""Connects the widgets to the engine: what to ask for, and which answers still matter."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from medgrad_desktop.engine.api import LoadedImage, MapsResult, ModelInfo
from medgrad_desktop.errors import ImageLoadError, MedGradError, ModelLoadError
from medgrad_desktop.explain.prompt_sets import PromptSet
from medgrad_desktop.qt.engine_bridge import EngineBridge
from medgrad_desktop.qt.widgets.comparison_area import ComparisonArea
from medgrad_desktop.qt.widgets.folder_browser import FolderBrowser
from medgrad_desktop.qt.widgets.message_banner import MessageBanner
from medgrad_desktop.qt.widgets.prompt_panel import PromptPanel
from medgrad_desktop.qt.widgets.status_panel import StatusPanel
from medgrad_desktop.qt.widgets.view_controls import ViewControls

log = logging.getLogger(__name__)

SLIDER_DEBOUNCE_MS = 30
PREFETCH_RADIUS = 1


class ExplainController(QObject):
    """Requests views and maps from the engine (never computing on the GUI thread) and shows
    only results that still match the current image, prompt and radius."""

    modelFailed = Signal(str)  # plain message, for a dialog
    mapsShown = Signal(object)  # MapsResult

    def __init__(
        self,
        engine,
        bridge: EngineBridge,
        browser: FolderBrowser,
        comparison: ComparisonArea,
        prompts: PromptPanel,
        controls: ViewControls,
        status: StatusPanel,
        banner: MessageBanner,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.engine, self.browser, self.comparison = engine, browser, comparison
        self.prompts, self.controls, self.status, self.banner = prompts, controls, status, banner
        self.model_info: ModelInfo | None = None
        self.prompt_set: PromptSet | None = None
        self.current_path: Path | None = None
        self.shown: MapsResult | None = None
        self.last_error: str = ""
        self.follow_top_class = True  # until a prompt is chosen, show the top class's maps
        self.follow_enabled = True  # off while a rating session decides the prompt
        self._radius_timer = QTimer(self)
        self._radius_timer.setSingleShot(True)
        self._radius_timer.setInterval(SLIDER_DEBOUNCE_MS)
        self._radius_timer.timeout.connect(self.request_maps)

        bridge.sig_model_loaded.connect(self._on_model_loaded)
        bridge.sig_image_loaded.connect(self._on_image_loaded)
        bridge.sig_evidence_ready.connect(self._on_evidence_ready)
        bridge.sig_maps_ready.connect(self._on_maps_ready)
        bridge.sig_failed.connect(self._on_failed)
        bridge.sig_queue_changed.connect(status.set_queue)
        browser.currentPathChanged.connect(self.show_path)
        prompts.promptSetChanged.connect(self.set_prompt_set)
        prompts.promptSelected.connect(self._on_prompt_chosen)
        prompts.loadFailed.connect(self.show_problem)
        controls.opacityChanged.connect(comparison.set_opacity)
        controls.colormapChanged.connect(comparison.set_colormap)
        controls.radiusChanged.connect(lambda _radius: self._radius_timer.start())

    # -- requests -------------------------------------------------------------------------
    def ready(self) -> bool:
        return None not in (self.model_info, self.prompt_set, self.current_path)

    def load_model(self, source: str | Path, device: str | None = None) -> None:
        self.status.model.setText("model: loading…")
        self.engine.load_model(source, device)

    def set_prompt_set(self, prompt_set: PromptSet) -> None:
        self.prompt_set = prompt_set
        self.follow_top_class = True
        self.engine.set_prompts(prompt_set.prompts())
        self.shown = None
        self.comparison.clear_maps()  # they belong to the previous set's prompts
        self.request_view()

    def show_path(self, path: Path | None) -> None:
        """The browser moved: show ``path`` (older view requests are superseded)."""
        self.current_path = path
        self.shown = None
        self.banner.hide()
        self.prompts.chart.clear_values()
        self.comparison.set_image(None, None)
        if path is None:
            self.comparison.set_busy(False)
            return
        self.request_view()

    def request_view(self) -> None:
        if not self.ready():
            return
        self.comparison.set_busy(True)
        self.engine.request_view(
            self.current_path, self.prompts.selected_prompt(), self.controls.radius()
        )
        self.engine.prefetch(self.browser.neighbours(PREFETCH_RADIUS))

    def set_explain_options(self, variant: str, geometry: str) -> None:
        """The maps' variant and the input geometry changed: recompute the view with them."""
        self.engine.set_options(variant=variant, geometry=geometry)
        self.comparison.set_provenance(variant, geometry)
        self.shown = None
        self.request_view()

    def _on_prompt_chosen(self, _index: int) -> None:
        """A prompt was chosen (by the reader or a rating session): keep it across images."""
        self.follow_top_class = False
        self.request_maps()

    def request_maps(self) -> None:
        """Maps for a new prompt or radius from cached evidence (debounced for the slider)."""
        if not self.ready():
            return
        self.comparison.set_busy(True)
        self.engine.request_maps(
            self.current_path, self.prompts.selected_prompt(), self.controls.radius()
        )

    # -- answers (queued from the engine's threads) ---------------------------------------
    def _on_model_loaded(self, info: ModelInfo) -> None:
        self.model_info = info
        self.status.set_model(info)
        self.prompts.status.setText(f"Model: {info.name} on {info.device.upper()}")
        self.request_view()

    def _on_image_loaded(self, _request_id: int, image: LoadedImage) -> None:
        if image.path != self.current_path or self.comparison.image_path == image.path:
            return
        self.comparison.set_image(image.path, image.rgb)

    def _on_evidence_ready(self, _request_id: int, path: Path, evidence) -> None:
        if path != self.current_path or self.prompt_set is None or self.model_info is None:
            return
        if len(evidence.similarity) != len(self.prompt_set.items):
            return  # evidence of a previous prompt set
        self.prompts.chart.set_values(evidence.similarity, self.model_info.logit_scale)
        if self.follow_enabled and self.follow_top_class:
            top = self.prompt_set.top_class(evidence.similarity)
            if top is not None and top != self.prompts.selected_prompt():
                self.prompts.chart.select(top)  # no signal: following is not a choice
                self.request_maps()

    def _on_maps_ready(self, _request_id: int, result: MapsResult) -> None:
        wanted = (self.current_path, self.prompts.selected_prompt(), self.controls.radius())
        if (result.path, result.prompt_index, result.entropy_radius) != wanted:
            return
        if self.comparison.image_path != result.path:
            return  # the image itself has not arrived yet; its maps will follow it
        self.comparison.set_maps(result)
        self.comparison.set_busy(False)
        self.shown = result
        self.mapsShown.emit(result)

    def _on_failed(self, _request_id: int, path: Path | None, error: MedGradError) -> None:
        log.warning("Engine failure for %s: %s (%s)", path, error.message, error.details)
        self.last_error = error.message
        if isinstance(error, ModelLoadError):
            self.status.set_model_failed()
            self.comparison.set_busy(False)
            self.modelFailed.emit(error.message)
            return
        if path is not None and isinstance(error, ImageLoadError):
            self.browser.mark_unreadable(path, error.message)
        if path is None or path == self.current_path:
            self.comparison.set_busy(False)
            self.show_problem(error.message)
        else:
            self.status.show_message(error.message)

    def show_problem(self, message: str) -> None:
        """A problem with what is on screen: the banner says it (the status bar stays short)."""
        self.last_error = message
        self.banner.show_message(message)
