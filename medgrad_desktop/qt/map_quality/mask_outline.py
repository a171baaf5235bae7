"""Browse mode's "Outline ground-truth mask": when the shown image has masks (a synthetic set
or an ISIC 2018 Task 2 folder), their outline is drawn on every panel. Never in rating mode."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject
from scipy.ndimage import binary_closing, binary_dilation, binary_erosion, binary_fill_holes

from medgrad_desktop.errors import MedGradError

log = logging.getLogger(__name__)

OUTLINE_RGBA = (0, 255, 255, 255)


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
    """Draws the union of the current image's masks on every panel of ``window.comparison``."""

    def __init__(self, window) -> None:
        super().__init__(window)
        self.window = window
        self.enabled = False
        self.items: list[pg.ImageItem] = []
        self._masks_by_image: dict[Path, list[Path]] = {}
        self._indexed_folder: Path | None = None
        window.controller.mapsShown.connect(lambda _result: self.refresh())

    def set_enabled(self, enabled: bool) -> None:
        self.enabled = enabled
        self.refresh()

    def _index(self, folder: Path) -> None:
        from medgrad_desktop.explain.evaluation.datasets import load_mask_dataset

        root = folder.parent if (folder.parent / "manifest.csv").is_file() else folder
        self._indexed_folder = folder
        try:
            dataset = load_mask_dataset(root)
        except MedGradError as error:
            log.info("No masks for %s: %s", folder, error.message)
            self._masks_by_image = {}
            return
        self._masks_by_image = {
            Path(item.image).resolve(): list(item.masks.values()) for item in dataset.images
        }

    def current_mask(self, image_hw: tuple[int, int]) -> np.ndarray | None:
        """The union of the shown image's masks, or None when it has none."""
        from medgrad_desktop.explain.evaluation.datasets import read_mask

        path = self.window.comparison.image_path
        folder = self.window.browser.folder
        if path is None or folder is None:
            return None
        if self._indexed_folder != Path(folder):
            self._index(Path(folder))
        paths = self._masks_by_image.get(Path(path).resolve(), [])
        if not paths:
            return None
        try:
            union = np.zeros(image_hw, dtype=bool)
            for mask_path in paths:
                union |= read_mask(mask_path, image_hw)
        except MedGradError as error:
            log.warning("Mask outline not shown: %s (%s)", error.message, error.details)
            return None
        return union if union.any() else None

    def clear(self) -> None:
        for item in self.items:
            view_box = item.getViewBox()
            if view_box is not None:
                view_box.removeItem(item)
        self.items = []

    def refresh(self) -> None:
        """Redraw for the current image (or remove the outline)."""
        self.clear()
        if not self.enabled or in_rating_mode(self.window):
            return
        panels = self.window.comparison.all_panels()
        shown = panels[0].image_item.image
        if shown is None:
            return
        mask = self.current_mask(shown.shape[:2])
        if mask is None:
            return
        rgba = outline_rgba(mask)
        for panel in panels:
            item = pg.ImageItem(rgba)
            item.setZValue(5)
            panel.view_box.addItem(item)
            self.items.append(item)
