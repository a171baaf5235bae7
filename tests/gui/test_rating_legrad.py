"""LeGrad as an optional fourth blinded panel D: offered in the setup dialog only for a model
that supports it, shown blinded in equal cells A–D, rated by keys, stored with its method and
display settings, reopened with the same blinding, and analysed under its title."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialogButtonBox

from medgrad_desktop.qt.rating import install_rating_mode
from medgrad_desktop.qt.rating.rating_controller import ALL_DONE_TEXT
from medgrad_desktop.qt.widgets.method_availability import method_availability
from medgrad_desktop.qt.widgets.optional_panels import OptionalPanels
from medgrad_desktop.review import RatingSession, RatingStore, SessionConfig
from tests.gui.rating_helpers import leaks, open_window, visible_texts, wait_ratable

pytestmark = pytest.mark.gui
SHOTS = Path("/tmp/shots")
FOUR = {"gradcam", "gradeclip", "medgrad", "legrad"}


def _press(qtbot, key) -> None:
    qtbot.keyClick(QApplication.focusWidget(), key)


def _wait_availability(qtbot, window) -> None:
    qtbot.waitUntil(lambda: method_availability(window).known, timeout=30_000)


def _create_four_panel_session(qtbot, window, path):
    menu = install_rating_mode(window)
    dialog = menu.new_session()
    legrad = dialog.method_boxes["legrad"]
    assert legrad.text() == "LeGrad" and legrad.isEnabled() and not legrad.isChecked()
    assert all(dialog.method_boxes[m].isChecked() for m in FOUR - {"legrad"})
    dialog.study_edit.setText("panel D pilot")
    dialog.reader_edit.setText("reader-d")
    dialog.fixed_combo.setCurrentText("melanoma")
    dialog.seed_edit.setText("424242")
    dialog.set_session_path(path)
    assert "5 cases × 1 prompt × 3 maps = 15 ratings" in dialog.workload.text()
    legrad.setChecked(True)
    assert "5 cases × 1 prompt × 4 maps = 20 ratings" in dialog.workload.text()
    SHOTS.mkdir(exist_ok=True)
    dialog.grab().save(str(SHOTS / "12-session-dialog-legrad.png"))
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    qtbot.waitUntil(lambda: menu.controller is not None, timeout=5000)
    return menu, menu.controller


def test_four_panel_session_with_legrad_rated_by_keys_stored_reopened_and_analysed(
    qtbot, main_window, tmp_path
):
    main_window.resize(1280, 860)
    _wait_availability(qtbot, main_window)
    path = tmp_path / "legrad.mgsession"
    menu, controller = _create_four_panel_session(qtbot, main_window, path)
    assert set(controller.config.methods) == FOUR
    assert set(main_window.engine.methods) == FOUR  # the engine computes panel D's map too
    main_window.activateWindow()
    qtbot.waitUntil(main_window.isActiveWindow, timeout=3000)

    view = controller.view
    assert [row.label for row in controller.rows] == ["A", "B", "C", "D"]
    legrad_labels = {
        next(label for label, m in controller.session.panels(c) if m == "legrad")
        for c in controller.order
    }
    assert len(legrad_labels) > 1  # its panel letter is shuffled per case

    assignments, expected = {}, {}
    k = Qt.Key
    # case 1: A=3, the frame on B, Tab Tab to D=5, then B=4 and C=2 (the frame goes to the unrated)
    keys = [[k.Key_3, k.Key_Tab, k.Key_Tab, k.Key_5, k.Key_4, k.Key_2]]
    keys += [[k.Key_1, k.Key_2, k.Key_3, k.Key_4]] * 4
    scores_by_case = [{"A": 3, "D": 5, "B": 4, "C": 2}] + [{"A": 1, "B": 2, "C": 3, "D": 4}] * 4
    for index, case_keys in enumerate(keys):
        case = controller.order[index]
        wait_ratable(qtbot, controller, case)
        assignment = dict(controller.assignment)
        assert sorted(assignment) == ["A", "B", "C", "D"] and set(assignment.values()) == FOUR
        assert [panel.title.text() for panel in view.panels] == ["A", "B", "C", "D"]
        maps = [panel.map for panel in view.panels]
        assert all(m is not None for m in maps)
        assert all(  # four different maps, not one method shown twice
            not np.array_equal(maps[i], maps[j]) for i in range(4) for j in range(i + 1, 4)
        )
        if index == 0:
            sizes = {cell.size().toTuple() for cell in view.cells.cells}
            assert len(sizes) == 1  # original and A–D in cells of one size
            assert leaks(visible_texts()) == []  # no method name anywhere, "LeGrad" included
            SHOTS.mkdir(exist_ok=True)
            main_window.grab().save(str(SHOTS / "12-rating-four-panels.png"))
            controller.move_current(4)  # Tab cycles over the four panels
            assert controller.current == 0
        for key in case_keys:
            _press(qtbot, key)
        assignments[case], expected[case] = assignment, scores_by_case[index]
    qtbot.waitUntil(lambda: ALL_DONE_TEXT in controller.bar.message.text(), timeout=10_000)

    state = main_window.state
    with RatingStore.open(path, read_only=True) as store:
        ratings = store.ratings()
    assert len(ratings) == 20
    for rating in ratings:
        assert rating["method"] == assignments[rating["case"]][rating["panel"]]
        assert rating["score"] == expected[rating["case"]][rating["panel"]]
    legrad = [r for r in ratings if r["method"] == "legrad"]
    assert len(legrad) == 5
    for rating in legrad:
        assert rating["variant"] == state.variant and rating["geometry"] == state.geometry
        assert rating["model_id"] == main_window.controller.model_info.model_id

    menu.leave()
    assert "legrad" not in main_window.engine.methods  # the viewer's methods again
    assert menu.open_session(path)
    again = menu.controller
    assert again.order == controller.order
    assert [dict(again.session.panels(c)) for c in again.order] == [
        assignments[c] for c in again.order
    ]
    assert ALL_DONE_TEXT in again.bar.message.text()
    menu.leave()

    opened = []
    menu.open_url = opened.append
    html = tmp_path / "report.html"
    with qtbot.waitSignal(menu.analysisFinished, timeout=60_000):
        menu.build_report([path], html)
    report = json.loads(html.with_suffix(".json").read_text(encoding="utf-8"))
    assert report["methods"] == ["gradcam", "gradeclip", "medgrad", "legrad"]
    assert report["method_titles"]["legrad"] == "LeGrad"
    legrad_scores = [expected[r["case"]][r["panel"]] for r in legrad]
    assert report["per_method"]["legrad"]["mean"] == pytest.approx(np.mean(legrad_scores))
    assert report["per_method"]["legrad"]["n"] == 5
    pairs = {(d["a"], d["b"]) for d in report["method_differences"]}
    assert {("gradcam", "legrad"), ("gradeclip", "legrad"), ("medgrad", "legrad")} <= pairs
    assert "LeGrad" in html.read_text(encoding="utf-8")


def test_legrad_is_not_offered_for_an_open_clip_model(qtbot, image_folder, tmp_path_factory):
    from medgrad_desktop.explain.legrad import LEGRAD_REFUSAL
    from tests.open_clip_reference import write_biomedclip_folder

    biomed = write_biomedclip_folder(tmp_path_factory.mktemp("legrad_open_clip") / "biomed")
    main = open_window(qtbot, image_folder, biomed)
    _wait_availability(qtbot, main)
    action = main.findChild(OptionalPanels).actions["legrad"]
    assert not action.isEnabled() and action.toolTip() == LEGRAD_REFUSAL

    menu = install_rating_mode(main)
    dialog = menu.new_session()
    box = dialog.method_boxes["legrad"]
    assert not box.isEnabled() and not box.isChecked()
    assert box.toolTip() == LEGRAD_REFUSAL
    assert dialog.method_note.isVisibleTo(dialog) and dialog.method_note.text() == LEGRAD_REFUSAL
    assert dialog.method_boxes["medgrad"].isEnabled()
    SHOTS.mkdir(exist_ok=True)
    dialog.grab().save(str(SHOTS / "12-session-dialog-open-clip.png"))
    dialog.reject()

    # a LeGrad session set up elsewhere: refused with the reason, not a session without maps
    path = tmp_path_factory.mktemp("legrad_session") / "four.mgsession"
    config = SessionConfig(
        reader="r",
        images=sorted(image_folder.glob("*.png")),
        fixed_prompt="melanoma",
        methods=sorted(FOUR),
    )
    RatingSession.create(path, config).close()
    assert not menu.open_session(path)
    assert menu.controller is None and not main.state.rating_mode
    assert LEGRAD_REFUSAL in main.banner.text()
    with RatingSession.open(path) as session:  # closed again, not held
        assert session.progress() == (0, 5)
    main.close()


def test_a_stored_legrad_session_refuses_unknown_methods_and_counts_four(tmp_path, image_folder):
    images = sorted(image_folder.glob("*.png"))[:3]
    four = SessionConfig(
        reader="r", images=images, fixed_prompt="melanoma", methods=sorted(FOUR), seed=3
    )
    assert four.problems() == {}
    assert four.workload()[1].startswith("3 cases × 1 prompt × 4 maps = 12 ratings")
    bad = SessionConfig(reader="r", images=images, fixed_prompt="melanoma", methods=["lime"])
    assert "LeGrad" in bad.problems()["methods"]
    with RatingSession.create(tmp_path / "s.mgsession", four) as session:
        case = session.cases_in_order()[0]
        label = next(label for label, m in session.panels(case) if m == "legrad")
        session.rate(case, label, 4, display={"variant": "model", "geometry": "square"})
    with RatingStore.open(tmp_path / "s.mgsession", read_only=True) as store:
        (rating,) = store.ratings()
    assert (rating["method"], rating["panel"], rating["score"]) == ("legrad", label, 4)
