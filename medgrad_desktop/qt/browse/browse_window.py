"""The "Browse by meaning" window: indexes the open folder in the background, then searches
it with words, a prompt or an image, sorts and filters it by the model's predictions, and
with labels shows where the model fails. One click on any image opens it in the viewer."""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFileDialog, QLabel, QTabWidget, QVBoxLayout, QWidget

from medgrad_desktop import RESEARCH_NOTICE
from medgrad_desktop.browse.folder_embeddings import FolderEmbeddings, list_folder_images
from medgrad_desktop.browse.labels import load_labels
from medgrad_desktop.browse.predictions import Predictions, predict_classes, sorted_rows
from medgrad_desktop.browse.ranking import cosine_scores, text_embedding
from medgrad_desktop.browse.triage import triage
from medgrad_desktop.errors import ComputeError, MedGradError
from medgrad_desktop.explain.prompt_sets import PromptSet
from medgrad_desktop.qt.browse.embedding_job import EmbeddingJob
from medgrad_desktop.qt.browse.image_grid import GridEntry
from medgrad_desktop.qt.browse.model_call import ModelCall
from medgrad_desktop.qt.browse.search_panel import SearchPanel
from medgrad_desktop.qt.browse.triage_panel import TriagePanel

log = logging.getLogger(__name__)

WINDOW_TITLE = "Browse by meaning"


class BrowseWindow(QWidget):
    """A tool window over one folder; ``openRequested(path)`` asks the viewer to show an image."""

    openRequested = Signal(object)

    def __init__(self, engine, parent: QWidget | None = None, cache=None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("browseWindow")
        self.setWindowTitle(WINDOW_TITLE)
        self.engine = engine
        self.folder = Path()
        self.names: list[str] = []
        self.prompt_set: PromptSet | None = None
        self.embeddings: FolderEmbeddings | None = None
        self.bundle = None
        self.predictions: Predictions | None = None
        self.scores: np.ndarray | None = None
        self.query_text = ""
        self._index_note = ""
        self.search = SearchPanel()
        self.triage_panel = TriagePanel()
        self.job = EmbeddingJob(self, cache=cache)
        self.calls = ModelCall(self)
        notice = QLabel(
            f"<b>{RESEARCH_NOTICE}</b> Badges show the model's top class and its probability."
        )
        notice.setObjectName("browseNotice")
        notice.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(self.search, "Search and sort")
        self.tabs.addTab(self.triage_panel, "Labels and errors")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(notice)
        self._connect()
        self.resize(1100, 760)

    def _connect(self) -> None:
        self.search.searchRequested.connect(self.search_text)
        self.search.similarRequested.connect(self.find_similar)
        self.search.viewChanged.connect(self.refresh)
        self.search.cancelRequested.connect(self.cancel_indexing)
        self.search.grid.imageClicked.connect(self.openRequested)
        self.triage_panel.openRequested.connect(self.openRequested)
        self.triage_panel.loadRequested.connect(self.choose_labels)
        self.triage_panel.subfoldersRequested.connect(lambda: self.apply_labels(None))
        self.job.progress.connect(self._on_progress)
        self.job.finished.connect(self._on_embedded)
        self.job.failed.connect(self._show_status)
        self.job.cancelled.connect(
            lambda: self._show_status("Indexing stopped; search works once it has finished.")
        )
        self.calls.done.connect(self._on_model_answer)
        self.calls.failed.connect(lambda _tag, message: self._show_status(message))

    # -- folder, prompt set, model ----------------------------------------------------------
    def open_folder(self, folder: Path, prompt_set: PromptSet | None = None) -> None:
        """Show ``folder`` (and class subfolders) at once; index it in the background."""
        self.folder = Path(folder)
        if prompt_set is not None:
            self.set_prompt_set(prompt_set, refresh=False)
        try:
            self.names = list_folder_images(self.folder, include_subfolders=True)
        except OSError as error:
            log.warning("Cannot list %s: %r", self.folder, error)
            self.names = []
            self._show_status(f"The folder {self.folder} cannot be opened.")
        self.setWindowTitle(f"{self.folder.name} — {WINDOW_TITLE}")
        self.embeddings = self.predictions = self.scores = None
        self.refresh()
        self.reindex()

    def reindex(self) -> None:
        """(Re)compute the embeddings, e.g. after another model was opened."""
        self.embeddings = self.predictions = self.scores = None
        if not self.names:
            self.search.set_progress(0, 0)
            self._show_status(f"The folder {self.folder.name} contains no images.")
            return
        self.search.set_progress(0, len(self.names))
        self._show_status(f"Indexing {len(self.names)} images in the background…")
        self.job.start(self.engine, self.folder, self.names)

    def set_prompt_set(self, prompt_set: PromptSet, refresh: bool = True) -> None:
        self.prompt_set = prompt_set
        self.search.set_prompt_set(prompt_set)
        self.predictions = None
        if refresh and self.embeddings is not None:
            self._predict()

    def cancel_indexing(self) -> None:
        self.job.cancel()
        self.search.set_progress(0, 0)

    # -- answers from the background ---------------------------------------------------------
    def _on_progress(self, done: int, total: int) -> None:
        self.search.set_progress(done, total)

    def _on_embedded(self, embeddings: FolderEmbeddings, bundle) -> None:
        self.embeddings, self.bundle = embeddings, bundle
        self.search.set_progress(1, 1)
        self._index_note = f"{len(embeddings)} images indexed."
        if embeddings.failed:
            self._index_note += f" {len(embeddings.failed)} could not be read and are left out."
        self.refresh()
        self._predict()

    def _predict(self) -> None:
        if self.prompt_set is None or not self.prompt_set.classes or self.embeddings is None:
            return
        embeddings, prompt_set = self.embeddings, self.prompt_set
        self._ask_model("predict", lambda b: predict_classes(b, embeddings, prompt_set))

    def _ask_model(self, tag: str, fn) -> None:
        """Run ``fn(bundle)`` on the model thread if the model is still the indexed one."""
        expected = self.bundle

        def call(bundle):
            if bundle is not expected:
                raise ComputeError("Another model was opened; the folder is being indexed again.")
            return fn(bundle)

        self.calls.run(self.engine, call, tag)

    def _on_model_answer(self, tag: str, result) -> None:
        if tag == "predict":
            self.predictions = result
        elif tag == "search" and self.embeddings is not None:
            self.scores = cosine_scores(self.embeddings.vectors, result)
            self.search.set_sort_key("similarity")
        self.refresh()

    # -- searching and sorting ---------------------------------------------------------------
    def search_text(self, texts) -> None:
        """Rank by similarity to words (str) or a prompt's synonym ensemble (tuple)."""
        if self.embeddings is None:
            self._show_status("Please wait until the images are indexed, then search again.")
            return
        self.query_text = texts if isinstance(texts, str) else self.search.query.text()
        self._ask_model("search", lambda b: text_embedding(b, texts))

    def find_similar(self, name: str) -> None:
        if self.embeddings is None:
            self._show_status("Please wait until the images are indexed.")
            return
        try:
            row = self.embeddings.row_of(name)
        except KeyError:
            self._show_status(f"{Path(name).name} could not be read, so it has no match list.")
            return
        self.query_text = f"looks like {Path(name).name}"
        self.scores = cosine_scores(self.embeddings.vectors, self.embeddings.vectors[row])
        self.search.set_sort_key("similarity")
        self.refresh()

    def refresh(self) -> None:
        """Fill the grid in the chosen order, with scores and top-class badges."""
        if self.embeddings is None:
            self.search.grid.set_entries(self.folder, [GridEntry(n) for n in self.names])
            return
        names = self.embeddings.names
        rows = sorted_rows(
            names,
            self.search.sort_key(),
            self.predictions,
            self.scores,
            self.search.only_class() if self.predictions is not None else None,
            self.search.min_probability.value() if self.predictions is not None else 0.0,
        )
        self.search.grid.set_entries(self.folder, [self._entry(row) for row in rows])
        shown = f"{self._index_note} Showing {len(rows)} of {len(names)}"
        if self.scores is not None and self.search.sort_key() == "similarity":
            shown += f", best match first for “{self.query_text}”"
        self._show_status(shown + ".")

    def _entry(self, row: int) -> GridEntry:
        name = self.embeddings.names[row]
        caption = Path(name).name
        if self.scores is not None:
            caption += f"\nmatch {self.scores[row]:.3f}"
        if self.predictions is None:
            return GridEntry(name, caption)
        top = int(self.predictions.top[row])
        label = self.predictions.class_labels[top]
        risky = bool(self.prompt_set and self.prompt_set.classes[top].high_risk)
        return GridEntry(name, caption, f"{label} {self.predictions.confidence[row]:.2f}", risky)

    # -- labels ------------------------------------------------------------------------------
    def choose_labels(self) -> None:
        chosen, _ = QFileDialog.getOpenFileName(
            self, "True labels (CSV)", str(self.folder), "CSV (*.csv *.txt);;All files (*)"
        )
        if chosen:
            self.apply_labels(Path(chosen))

    def apply_labels(self, source: Path | None) -> bool:
        """Compare the predictions with labels from a CSV, or class subfolders (None)."""
        if self.predictions is None or self.prompt_set is None:
            self.triage_panel.summary.setText(
                "The model's predictions are not ready yet; wait for the indexing to finish."
            )
            return False
        try:
            labels = load_labels(source, self.folder, self.embeddings.names, self.prompt_set)
        except MedGradError as error:
            log.info("Labels refused: %s (%s)", error.message, error.details)
            self.triage_panel.summary.setText(error.message)
            return False
        result = triage(self.predictions, labels)
        self.triage_panel.show_triage(self.folder, result, labels.warnings)
        return True

    def _show_status(self, message: str) -> None:
        self.search.status.setText(message)

    def closeEvent(self, event) -> None:
        self.job.cancel(quietly=True)
        super().closeEvent(event)

    def shutdown(self) -> None:
        self.job.cancel(quietly=True)
        self.job.wait(2.0)
        self.search.grid.shutdown()
        self.triage_panel.shutdown()
