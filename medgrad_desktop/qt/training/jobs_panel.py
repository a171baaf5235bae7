"""Training → Jobs: the runs in the run folders, and the selected one in detail.

Runs are found on disk (``training.jobs.discover_runs``), so after a restart of the app running
and finished jobs reappear. While the panel is shown a timer polls every ``POLL_MS``: the
selected run's ``events.jsonl`` is read incrementally (a bounded chunk per tick, never the
whole file), the list's states every few ticks.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from medgrad_desktop.engine.run_names import human_run_name
from medgrad_desktop.errors import MedGradError
from medgrad_desktop.qt.training.run_view import STATE_TITLES, RunView
from medgrad_desktop.qt.widgets.warning_box import show_warning
from training.jobs import cancel_job, discover_runs, resume_job
from training.run_watch import RunWatch, known_run_folders, remember_run_folder

log = logging.getLogger(__name__)

POLL_MS = 500
LIST_EVERY_TICKS = 4  # the list (all runs) is refreshed every 2 s
PATH_ROLE = Qt.ItemDataRole.UserRole


class JobsPanel(QWidget):
    """A window listing training runs. ``openResult(model_folder)`` asks the viewer to open a
    run's checkpoint (``RunWatch.result_model``). ``folders``: where to look (default: the
    known run folders)."""

    openResult = Signal(Path)

    def __init__(self, parent: QWidget | None = None, folders: list[Path] | None = None):
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Training jobs")
        self.setObjectName("jobsPanel")
        self._fixed_folders = [Path(f) for f in folders] if folders else None
        self.watches: dict[Path, RunWatch] = {}
        self.run_list = QListWidget()
        self.run_list.setObjectName("runList")
        self.run_list.setMinimumWidth(240)
        self.view = RunView()
        self.empty_note = QLabel("No training runs yet: use Training → New training run….")
        self.empty_note.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(QLabel("Runs"))
        left_layout.addWidget(self.run_list, 1)
        left_layout.addWidget(self.empty_note)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(self.view)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([260, 760])
        layout = QHBoxLayout(self)
        layout.addWidget(splitter)
        self.resize(1060, 680)
        self.run_list.currentItemChanged.connect(self._on_selected)
        self.view.cancelRequested.connect(self.cancel_selected)
        self.view.resumeRequested.connect(self.resume_selected)
        self.view.openRequested.connect(self.open_selected)
        self.timer = QTimer(self)
        self.timer.setInterval(POLL_MS)
        self.timer.timeout.connect(self.poll)
        self._ticks = 0
        self.refresh_runs()

    # -- runs -------------------------------------------------------------------------------
    def folders(self) -> list[Path]:
        return self._fixed_folders if self._fixed_folders is not None else known_run_folders()

    def add_folder(self, folder: Path) -> None:
        """Look in ``folder`` too (remembered for later sessions)."""
        if self._fixed_folders is not None:
            if Path(folder) not in self._fixed_folders:
                self._fixed_folders.append(Path(folder))
        else:
            remember_run_folder(folder)
        self.refresh_runs()

    def refresh_runs(self) -> None:
        """Find runs on disk, update their states and the list (the selection is kept)."""
        for run_dir in discover_runs(self.folders()):
            if run_dir not in self.watches:
                self.watches[run_dir] = RunWatch(run_dir)
        for watch in self.watches.values():
            watch.poll()
        selected = self.selected_run()
        order = sorted(self.watches, key=lambda p: p.name, reverse=True)
        self.run_list.blockSignals(True)
        if [self.run_list.item(i).data(PATH_ROLE) for i in range(self.run_list.count())] != [
            str(p) for p in order
        ]:
            self.run_list.clear()
            for run_dir in order:
                item = QListWidgetItem()
                item.setData(PATH_ROLE, str(run_dir))
                self.run_list.addItem(item)
        for index in range(self.run_list.count()):
            item = self.run_list.item(index)
            watch = self.watches[Path(item.data(PATH_ROLE))]
            item.setText(self._item_text(watch))
            if selected is not None and Path(item.data(PATH_ROLE)) == selected:
                self.run_list.setCurrentItem(item)
        self.run_list.blockSignals(False)
        self.empty_note.setVisible(not self.watches)
        if self.run_list.currentItem() is None and self.run_list.count():
            self.run_list.setCurrentRow(0)
        elif self.view.watch is not None:
            self.view.refresh()

    @staticmethod
    def _item_text(watch: RunWatch) -> str:
        progress = watch.progress
        state = STATE_TITLES.get(watch.state, watch.state)
        if watch.state == "running" and progress.total_steps:
            state += f" {round(progress.fraction * 100)} %"
        return f"{human_run_name(watch.run_dir)}\n    {state}"

    def selected_run(self) -> Path | None:
        item = self.run_list.currentItem()
        return Path(item.data(PATH_ROLE)) if item is not None else None

    def selected_watch(self) -> RunWatch | None:
        run = self.selected_run()
        return self.watches.get(run) if run is not None else None

    def select_run(self, run_dir: Path) -> None:
        """Show ``run_dir`` (found now if it is new)."""
        run_dir = Path(run_dir).resolve()
        if run_dir not in self.watches:
            self.add_folder(run_dir.parent)
        for index in range(self.run_list.count()):
            if Path(self.run_list.item(index).data(PATH_ROLE)) == run_dir:
                self.run_list.setCurrentRow(index)
                return

    def _on_selected(self, current, _previous) -> None:
        watch = self.watches.get(Path(current.data(PATH_ROLE))) if current is not None else None
        if watch is not None:
            watch.poll()
        self.view.show_watch(watch)

    # -- polling ----------------------------------------------------------------------------
    def poll(self) -> None:
        """One timer tick: follow the selected run; every few ticks, the whole list."""
        self._ticks += 1
        if self._ticks % LIST_EVERY_TICKS == 0:
            self.refresh_runs()
            return
        watch = self.selected_watch()
        if watch is not None and watch.poll():
            self.view.refresh()
            item = self.run_list.currentItem()
            if item is not None:
                item.setText(self._item_text(watch))

    def showEvent(self, event) -> None:
        self.refresh_runs()
        self.timer.start()
        super().showEvent(event)

    def hideEvent(self, event) -> None:
        self.timer.stop()
        super().hideEvent(event)

    # -- buttons ----------------------------------------------------------------------------
    def cancel_selected(self) -> None:
        watch = self.selected_watch()
        if watch is not None and cancel_job(watch.run_dir):
            self.view.state.setText("Stopping — saving the last state…")
            self.view.cancel_button.setEnabled(False)

    def resume_selected(self) -> None:
        watch = self.selected_watch()
        if watch is None:
            return
        try:
            resume_job(watch.run_dir)
        except MedGradError as exc:
            self._warn("Cannot resume", exc.message)
            return
        except OSError as exc:
            log.error("Resuming %s failed: %r", watch.run_dir, exc)
            self._warn("Cannot resume", "The training job could not be started; see the log.")
            return
        watch.poll()
        self.view.refresh()

    def open_selected(self) -> None:
        watch = self.selected_watch()
        model = watch.result_model if watch is not None else None
        if model is not None:
            self.openResult.emit(model)

    def _warn(self, title: str, message: str) -> None:
        show_warning(self, title, message)
