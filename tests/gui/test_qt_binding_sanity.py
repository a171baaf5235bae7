"""Guard against a Qt binding that corrupts reference counts of bools in signals.

PySide6 6.12.0 decrements ``True``/``False`` once too often per ``Signal(bool)`` emission and
aborts the interpreter ("bool_dealloc: deallocating True or False") — pyproject pins < 6.12.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.gui

SCRIPT = textwrap.dedent(
    """
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication, QCheckBox

    app = QApplication([])

    class Emitter(QObject):
        flag = Signal(bool)
        triple = Signal(int, bool, object)

    emitter, received = Emitter(), []
    emitter.flag.connect(received.append)
    emitter.triple.connect(lambda a, b, c: received.append(b))
    for _ in range(5000):
        emitter.flag.emit(True)
        emitter.flag.emit(False)
        emitter.triple.emit(1, True, None)
    box = QCheckBox()
    box.toggled.connect(received.append)
    for _ in range(2000):
        box.setChecked(True)
        box.setChecked(False)
    print(len(received))
    """
)


def test_bool_signals_do_not_corrupt_the_interpreter():
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        timeout=120,
        env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == str(3 * 5000 + 2 * 2000)
