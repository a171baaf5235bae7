"""Connects the view state and the widgets to the engine: what to ask for, which answers count.

Every answer carries the id of the request it belongs to. Only answers to the requests made
since the last view request are used (the newest one for maps), so a result queued before a
model, prompt-set or image switch is dropped however much it resembles the current view.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Signal

from medgrad_desktop.engine.api import LoadedImage, MapsResult, ModelInfo
from medgrad_desktop.engine.view_state import ViewState
from medgrad_desktop.errors import ImageLoadError, MedGradError, ModelLoadError
from medgrad_desktop.explain.prompt_sets import PromptSet
from medgrad_desktop.qt.engine_bridge import EngineBridge
from medgrad_desktop.qt.widgets.comparison_area import ComparisonArea
from medgrad_desktop.qt.widgets.folder_browser import FolderBrowser
from medgrad_desktop.qt.widgets.message_banner import MessageBanner
from medgrad_desktop.qt.widgets.prompt_panel import PromptPanel
from medgrad_desktop.qt.widgets.status_panel import StatusPanel

log = logging.getLogger(__name__)

SLIDER_DEBOUNCE_MS = 30
PREFETCH_RADIUS = 1
IMAGE_HOLD_MS = 60
"""How long an image whose maps follow at once (cached or prefetched evidence) waits for them,
so both appear together; an image whose maps need the model is shown at once."""


class ExplainController(QObject):
    """Requests views and maps from the engine (never computing on the GUI thread) and shows
    only answers to the current requests; see the module docstring."""

    modelFailed = Signal(str)  # plain message, for a dialog
    mapsShown = Signal(object)  # MapsResult
    imageShown = Signal(object, bool)  # Path, shown together with its maps

    def __init__(
        self,
        engine,
        bridge: EngineBridge,
        state: ViewState,
        browser: FolderBrowser,
        comparison: ComparisonArea,
        prompts: PromptPanel,
        status: StatusPanel,
        banner: MessageBanner,
        parent: QObject | None = None,
    ):
        super().__init__(parent)
        self.engine, self.state, self.browser = engine, state, browser
        self.comparison, self.prompts, self.status, self.banner = (
            comparison,
            prompts,
            status,
            banner,
        )
        self.model_info: ModelInfo | None = None
        self.prompt_set: PromptSet | None = None
        self.shown: MapsResult | None = None
        self.similarity = None  # of the image on screen, once its evidence came
        self.last_error: str = ""
        self._live: list[int] = []  # the view request and the maps requests since, oldest first
        self._held: LoadedImage | None = None
        self._hold_timer = self._single_shot(IMAGE_HOLD_MS, self._show_held_image)
        self._maps_timer = self._single_shot(SLIDER_DEBOUNCE_MS, self.request_maps)

        bridge.sig_model_loaded.connect(self._on_model_loaded)
        bridge.sig_image_loaded.connect(self._on_image_loaded)
        bridge.sig_evidence_ready.connect(self._on_evidence_ready)
        bridge.sig_maps_ready.connect(self._on_maps_ready)
        bridge.sig_failed.connect(self._on_failed)
        bridge.sig_queue_changed.connect(status.set_pending)
        prompts.promptSetChanged.connect(self.set_prompt_set)
        prompts.loadFailed.connect(self.show_problem)
        events = state.events
        events.image.connect(self._on_image_changed)
        events.prompt_index.connect(self._on_prompt_changed)
        events.radius.connect(lambda _radius: self._maps_timer.start())
        events.follow_top_class.connect(self._on_follow_changed)
        events.rating_mode.connect(self._on_follow_changed)
        events.variant.connect(self._on_explain_options_changed)
        events.geometry.connect(self._on_explain_options_changed)

    def _single_shot(self, msecs: int, slot) -> QTimer:
        timer = QTimer(self)
        timer.setSingleShot(True)
        timer.setInterval(msecs)
        timer.timeout.connect(slot)
        return timer

    # -- compatibility for modes that predate the view state --------------------------------
    @property
    def current_path(self) -> Path | None:
        return self.state.image

    @property
    def follow_enabled(self) -> bool:
        return not self.state.rating_mode

    @follow_enabled.setter
    def follow_enabled(self, enabled: bool) -> None:
        self.state.rating_mode = not enabled

    def show_path(self, path: Path | None) -> None:
        """Show ``path`` (again): a new view request even when it is already current."""
        if self.state.image == path:
            self._on_image_changed(path)
        else:
            self.state.image = path

    # -- requests -------------------------------------------------------------------------
    def ready(self) -> bool:
        return None not in (self.prompt_set, self.state.image)

    def load_model(self, source: str | Path, device: str | None = None) -> None:
        self.status.set_loading(Path(str(source)).name or str(source))
        self.engine.load_model(source, device)

    def set_prompt_set(self, prompt_set: PromptSet) -> None:
        self.prompt_set = prompt_set
        self.engine.set_prompts(prompt_set.prompts(), top_candidates=prompt_set.class_indices())
        self.comparison.clear_maps()  # they belong to the previous set's prompts
        self._live = []  # answers about the previous set's prompts are stale
        self.state.prompt_index = 0
        self.request_view()

    def _on_image_changed(self, path: Path | None) -> None:
        self.shown = self.similarity = None
        self.banner.hide()
        self.prompts.chart.clear_values()
        if path is None:
            self._live = []
            self._held = None
            self.comparison.set_image(None, None)
            self.comparison.set_busy(False)
            return
        self.request_view()

    def _wanted_prompt(self) -> int | None:
        """None while following the top class: the engine picks it with the evidence."""
        return None if self.state.follow_effective() else self.state.prompt_index

    def request_view(self) -> None:
        """Ask for the current image; every earlier answer becomes stale."""
        if not self.ready():
            return
        self.shown = None
        state = self.state
        request = self.engine.request_view(state.image, self._wanted_prompt(), state.radius)
        self._live = [request]
        self.engine.prefetch(
            self.browser.neighbours(PREFETCH_RADIUS), self._wanted_prompt(), state.radius
        )

    def _on_explain_options_changed(self, _value=None) -> None:
        """The maps' variant or the input geometry changed: label and recompute the view."""
        state = self.state
        self.engine.set_options(variant=state.variant, geometry=state.geometry)
        self.comparison.set_provenance(state.variant, state.geometry)
        self.request_view()

    def request_maps(self) -> None:
        """Maps for a new prompt or radius from cached evidence (debounced for the slider)."""
        if not self.ready() or not self._live:
            return
        self.comparison.set_busy(True)
        state = self.state
        self._live.append(
            self.engine.request_maps(state.image, self._wanted_prompt(), state.radius)
        )

    def _on_prompt_changed(self, _index: int) -> None:
        if self.shown is None or self.shown.prompt_index != self.state.prompt_index:
            self.request_maps()

    def _on_follow_changed(self, _value: bool) -> None:
        if self.state.follow_effective():
            self.request_maps()

    # -- answers (queued from the engine's threads) ---------------------------------------
    def _on_model_loaded(self, info: ModelInfo) -> None:
        changed = self.model_info is None or self.model_info.model_id != info.model_id
        self.model_info = info
        self.status.set_model(info)
        found = f"\n{info.description}" if info.description else ""
        self.prompts.status.setText(f"Model: {info.name} on {info.device.upper()}{found}")
        if changed and (self.shown is not None or not self._live):
            self.request_view()  # the maps on screen (if any) came from the previous model

    def _on_image_loaded(self, request_id: int, image: LoadedImage) -> None:
        if request_id not in self._live or image.path != self.state.image:
            return
        if self.comparison.image_path == image.path:
            return
        self._held = image
        if image.maps_follow:
            self._hold_timer.start()
        else:
            self._show_held_image()

    def _show_held_image(self) -> None:
        """The maps did not come within the hold time: show the image alone, maps pending."""
        image, self._held = self._held, None
        if image is not None and image.path == self.state.image:
            self._show_image(image, with_maps=False)
            self.comparison.set_busy(True)

    def _show_image(self, image: LoadedImage, with_maps: bool) -> None:
        self.comparison.set_image(image.path, image.rgb)
        self.imageShown.emit(image.path, with_maps)

    def _on_evidence_ready(self, request_id: int, path: Path, evidence) -> None:
        if request_id not in self._live or path != self.state.image:
            return
        if self.prompt_set is None or self.model_info is None:
            return
        self.similarity = evidence.similarity
        self.prompts.chart.set_values(evidence.similarity, self.model_info.logit_scale)

    def _on_maps_ready(self, request_id: int, result: MapsResult) -> None:
        if not self._live or request_id != self._live[-1] or result.path != self.state.image:
            return
        if self.model_info is not None and result.model_id != self.model_info.model_id:
            self.request_view()  # computed by the model that was open before the switch
            return
        if self._held is not None and self._held.path == result.path:
            self._hold_timer.stop()
            image, self._held = self._held, None
            self._show_image(image, with_maps=True)
        if self.comparison.image_path != result.path:
            return
        self.shown = result
        self.state.prompt_index = result.prompt_index  # following: the class the engine chose
        self.comparison.set_prompt_label(self._prompt_label(result.prompt_index))
        self.comparison.set_maps(result)
        self.comparison.set_busy(False)
        self.mapsShown.emit(result)

    def _prompt_label(self, index: int) -> str:
        items = self.prompt_set.items if self.prompt_set is not None else []
        return items[index].label if 0 <= index < len(items) else ""

    def _on_failed(self, request_id: int, path: Path | None, error: MedGradError) -> None:
        log.warning("Engine failure for %s: %s (%s)", path, error.message, error.details)
        self.last_error = error.message
        if isinstance(error, ModelLoadError):
            self.status.set_model_failed(self.model_info)
            self.comparison.set_busy(False)
            self.modelFailed.emit(self._model_failure_text(error.message))
            return
        if path is not None and isinstance(error, ImageLoadError):
            self.browser.mark_unreadable(path, error.message)
        if path is None or (request_id in self._live and path == self.state.image):
            self._show_held_image()
            self.comparison.set_busy(False)
            self.show_problem(error.message)
        elif path != self.state.image:
            self.status.show_message(error.message)

    def _model_failure_text(self, message: str) -> str:
        if self.model_info is None:
            return message
        return f"{message}\n\nThe viewer keeps using the model {self.model_info.name}."

    def show_problem(self, message: str) -> None:
        """A problem with what is on screen: the banner says it (the status bar stays short)."""
        self.last_error = message
        self.banner.show_message(message)
