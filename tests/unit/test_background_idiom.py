"""House rule "one idiom per job": the Qt side runs background work through
``qt.background.run_in_background``; no new module starts its own threads or thread pools."""

from __future__ import annotations

import re
from pathlib import Path

QT = Path(__file__).resolve().parents[2] / "medgrad_desktop" / "qt"
OWN_THREADS = re.compile(r"threading\.Thread\(|QThreadPool|QRunnable|\bQThread\(")


def test_qt_modules_start_no_threads_of_their_own():
    starting = {
        path.relative_to(QT).as_posix()
        for path in QT.rglob("*.py")
        if path.name != "background.py" and OWN_THREADS.search(path.read_text(encoding="utf-8"))
    }
    assert starting == set()
