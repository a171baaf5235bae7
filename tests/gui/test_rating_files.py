"""Session files from the window: Hand in session… writes a complete copy, and a file
tampered with by SQL opens read-only with a warning the reader sees."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtWidgets import QMessageBox

from medgrad_desktop.qt.rating import install_rating_mode
from medgrad_desktop.review import RatingSession, RatingStore, SessionConfig
from tests.gui.rating_helpers import wait_ratable

pytestmark = pytest.mark.gui


def _session(path, image_folder) -> None:
    images = sorted(image_folder.glob("*.png"))
    config = SessionConfig(reader="r1", images=images, fixed_prompt="melanoma", seed=21)
    RatingSession.create(path, config).close()


def test_hand_in_copies_the_open_session(qtbot, main_window, tmp_path, image_folder):
    path = tmp_path / "mine.mgsession"
    _session(path, image_folder)
    menu = install_rating_mode(main_window)
    assert menu.open_session(path)
    wait_ratable(qtbot, menu.controller)
    assert menu.controller.rate(0, 4) and menu.controller.rate(1, 2)
    share = tmp_path / "study share" / "r1.mgsession"
    assert menu.hand_in(path, share)
    assert "handed in" in main_window.statusBar().currentMessage()
    with RatingStore.open(share, read_only=True) as copy:
        assert sorted(r["score"] for r in copy.ratings()) == [2, 4]
        assert copy.tamper_findings == []
    assert not menu.hand_in(path, path)  # onto itself: refused with a plain message
    assert "another place" in main_window.banner.text()


def test_tampered_session_opens_read_only_with_a_warning(
    qtbot, main_window, tmp_path, image_folder
):
    path = tmp_path / "tampered.mgsession"
    _session(path, image_folder)
    with RatingSession.open(path) as session:
        case = session.cases_in_order()[0]
        session.rate(case, "A", 2)
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("DROP TRIGGER audit_no_update")
    conn.execute("UPDATE audit SET score = 5")
    conn.close()
    menu = install_rating_mode(main_window)
    assert menu.open_session(path)
    controller = menu.controller
    assert "changed outside MedGrad Desktop" in controller.bar.message.text()
    boxes = [
        b for b in main_window.findChildren(QMessageBox) if b.objectName() == "tamperWarningBox"
    ]
    assert boxes and "reading only" in boxes[0].text()
    boxes[0].close()
    wait_ratable(qtbot, controller)
    assert not controller.rate(1, 3)
    assert "reading only" in controller.rows[1].status.toolTip()
