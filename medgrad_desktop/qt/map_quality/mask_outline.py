"""Browse mode's "Outline ground-truth mask": when the shown image has a drawn mask of the
structure whose prompt the panels explain (a synthetic set or an ISIC 2018 Task 2 folder, the
attribute → prompt mapping of ``explain.evaluation.datasets``), its outline is drawn on every
panel; otherwise a note says why none is drawn. Never in rating mode."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal

from medgrad_desktop.errors import MedGradError

log = logging.getLogger(__name__)

OUTLINE_RGBA = (0, 255, 255, 255)
NO_MASKS_NOTE = "No drawn masks for this image: open a synthetic set or an ISIC 2018 Task 2 folder."


def in_rating_mode(window) -> bool:
    """Whether a rating session is running in ``window``."""
    state = getattr(window, "state", None)
    if state is not None and getattr(state, "rating_mode", False):
        return True
    rating = window.findChild(QObject, "ratingMenu")
    return getattr(rating, "controller", None) is not None


def outline_rgba(mask: np.ndarray) -> np.ndarray:
    """An (H, W, 4) uint8 image: the outer boundary of the region the mask covers opaque,
    everything else transparent. Thin structures (a network's lines, dots) are first closed
    into their region; the line is about 1/250 of the short side thick (at least 1 px)."""
    # scipy.ndimage costs 0.4 s to import: not before the window is shown
    from scipy.ndimage import binary_closing, binary_dilation, binary_erosion, binary_fill_holes

    short = min(mask.shape)
    region = binary_fill_holes(binary_closing(mask, iterations=max(1, round(short / 60))))
    region |= mask
    edge = region & ~binary_erosion(region)
    width = max(1, round(short / 250))
    if width > 1:
        edge = binary_dilation(edge, iterations=width - 1)
    rgba = np.zeros((*mask.shape, 4), dtype=np.uint8)
    rgba[edge] = OUTLINE_RGBA
    return rgba


class MaskOutline(QObject):
    """Outlines, on every panel of ``window.comparison``, the shown image's drawn mask of the
    structure the maps explain; ``note`` (also sent as ``noteChanged``) says what is outlined
    or why nothing is."""

    noteChanged = Signal(str)

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.enabled = False
        self.note = ""
        self.items: list[pg.ImageItem] = []
        self._masks_by_image: dict[Path, dict[str, Path]] = {}
        self._attribute_prompts: dict[str, str] = {}
        self._indexed_folder: Path | None = None
        self._prompt_index: int | None = None  # the prompt of the maps on screen
        window.controller.mapsShown.connect(self._on_maps)
        window.controller.imageShown.connect(lambda _path, _with_maps: self.refresh())

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        self.refresh()

    def _on_maps(self, result) -> None:
        self._prompt_index = result.prompt_index
        self.refresh()

    def _index(self, folder: Path) -> None:
        from medgrad_desktop.explain.evaluation.datasets import load_mask_dataset

        root = folder.parent if (folder.parent / "manifest.csv").is_file() else folder
        self._indexed_folder = folder
        try:
            dataset = load_mask_dataset(root)
        except MedGradError as error:
            log.info("No masks for %s: %s", folder, error.message)
            self._masks_by_image, self._attribute_prompts = {}, {}
            return
        self._attribute_prompts = dict(dataset.prompts)
        self._masks_by_image = {Path(i.image).resolve(): dict(i.masks) for i in dataset.images}

    def shown_prompt(self):
        """The ``PromptItem`` the panels explain now, or None."""
        prompt_set = self.window.prompt_panel.prompt_set
        index = self._prompt_index
        if index is None:
            index = self.window.state.prompt_index
        if prompt_set is None or not 0 <= index < len(prompt_set.items):
            return None
        return prompt_set.items[index]

    def current_mask(self, image_hw: tuple[int, int]) -> tuple[np.ndarray | None, str]:
        """``(mask, note)``: the shown image's drawn mask of the shown prompt's structure
        (None when there is none) and the sentence that says so."""
        from medgrad_desktop.explain.evaluation.datasets import read_mask
        from medgrad_desktop.explain.evaluation.prompt_masks import attributes_for_prompt

        path, folder = self.window.comparison.image_path, self.window.browser.folder
        prompt = self.shown_prompt()
        if path is None or folder is None or prompt is None:
            return None, ""
        if self._indexed_folder != Path(folder):
            self._index(Path(folder))
        masks = self._masks_by_image.get(Path(path).resolve())
        if masks is None:
            return None, NO_MASKS_NOTE
        attributes = attributes_for_prompt(self._attribute_prompts, prompt.label, prompt.texts)
        paths = [masks[a] for a in attributes if a in masks]
        missing = f"No drawn mask for '{prompt.label}' on this image."
        try:
            union = np.zeros(image_hw, dtype=bool)
            for mask_path in paths:
                union |= read_mask(mask_path, image_hw)
        except MedGradError as error:
            log.warning("Mask outline not shown: %s (%s)", error.message, error.details)
            return None, error.message
        if not union.any():
            return None, missing
        return union, f"Outlined: the drawn mask of '{prompt.label}' on this image."

    def clear(self) -> None:
        for item in self.items:
            view_box = item.getViewBox()
            if view_box is not None:
                view_box.removeItem(item)
        self.items = []

    def _set_note(self, note: str) -> None:
        if note != self.note:
            self.note = note
            self.noteChanged.emit(note)

    def refresh(self) -> None:
        """Redraw for the current image and prompt (or remove the outline)."""
        self.clear()
        if not self.enabled or in_rating_mode(self.window):
            self._set_note("")
            return
        panels = self.window.comparison.all_panels()
        shown = panels[0].image_item.image
        if shown is None:
            self._set_note("")
            return
        mask, note = self.current_mask(shown.shape[:2])
        self._set_note(note)
        if mask is None:
            return
        rgba = outline_rgba(mask)
        for panel in panels:
            item = pg.ImageItem(rgba)
            item.setZValue(5)
            panel.view_box.addItem(item)
            self.items.append(item)
