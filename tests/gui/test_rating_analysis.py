"""Export and study report from the Rating session menu (review functions, not a subprocess)."""

from __future__ import annotations

import csv
import json

import pytest

from medgrad_desktop.qt.rating import install_rating_mode
from medgrad_desktop.review import RatingSession, SessionConfig

pytestmark = pytest.mark.gui


def _rated_sessions(tmp_path, image_folder) -> list:
    images = sorted(image_folder.glob("*.png"))
    paths = []
    for number, reader in enumerate(("reader-a", "reader-b", "reader-c")):
        path = tmp_path / f"{reader}.mgsession"
        config = SessionConfig(reader=reader, images=images, fixed_prompt="melanoma", seed=1)
        with RatingSession.create(path, config) as session:
            for index, case in enumerate(session.cases_in_order()):
                for label, method in session.panels(case):
                    score = 1 + (index + number + "gradcam gradeclip medgrad".find(method)) % 5
                    session.rate(case, label, score)
        paths.append(path)
    return paths


def test_export_and_report_files_are_written_and_opened(qtbot, main_window, tmp_path, image_folder):
    files = _rated_sessions(tmp_path, image_folder)
    menu = install_rating_mode(main_window)
    opened = []
    menu.open_url = opened.append

    csv_path = tmp_path / "out" / "ratings.csv"
    with qtbot.waitSignal(menu.analysisFinished, timeout=30_000):
        menu.export_ratings(files, csv_path)
    with csv_path.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 * 5 * 3
    assert {r["reader"] for r in rows} == {"reader-a", "reader-b", "reader-c"}
    assert "Exported 45 ratings" in main_window.statusBar().currentMessage()

    html_path = tmp_path / "out" / "report.html"
    with qtbot.waitSignal(menu.analysisFinished, timeout=60_000):
        job = menu.build_report(files, html_path)
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=5000)
    assert job.output == html_path
    assert opened[0].toLocalFile() == str(html_path)
    assert "<img" in html_path.read_text(encoding="utf-8")
    report = json.loads(html_path.with_suffix(".json").read_text(encoding="utf-8"))
    assert report["readers"] == ["reader-a", "reader-b", "reader-c"]
    assert set(report["per_method"]) == {"gradcam", "gradeclip", "medgrad"}


def test_report_failure_is_a_plain_message(qtbot, main_window, tmp_path):
    menu = install_rating_mode(main_window)
    missing = tmp_path / "nobody.mgsession"
    with qtbot.waitSignal(menu.analysisFailed, timeout=30_000) as signal:
        menu.build_report([missing], tmp_path / "r.html")
    assert "does not exist" in signal.args[0]
    assert "does not exist" in main_window.banner.text()
    assert not (tmp_path / "r.html").exists()
