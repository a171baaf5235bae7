"""The rating-mode defects of issue 13, each on the real window: equal panel geometry in
every case, Tab/digit sequences rate the intended panels, the framed panel is always shown,
the Leave button works, the prediction is hidden, and Ctrl+Z undoes (audited)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QApplication

from medgrad_desktop.qt.rating import install_rating_mode
from medgrad_desktop.qt.rating.blinded_comparison import BlindedComparison
from medgrad_desktop.qt.rating.rating_controller import ADVANCING_TEXT, CASE_DONE_TEXT
from medgrad_desktop.qt.rating.rating_panel import PanelRating
from medgrad_desktop.review import RatingSession, RatingStore, SessionConfig
from tests.gui.rating_helpers import wait_ratable

pytestmark = pytest.mark.gui

LABELS = ("nowhere near", "off", "partly", "mostly", "spot on")


def _open(main_window, tmp_path, image_folder, **options):
    path = tmp_path / "keys.mgsession"
    images = sorted(image_folder.glob("*.png"))
    config = SessionConfig(reader="r", images=images, fixed_prompt="melanoma", seed=17, **options)
    RatingSession.create(path, config).close()
    menu = install_rating_mode(main_window)
    assert menu.open_session(path)
    main_window.activateWindow()
    return menu, menu.controller, path


def _press(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(QApplication.focusWidget(), key, modifier)


def _geometry(panel) -> tuple:
    """Size of the view, its visible range and where the image lands on screen."""
    view = panel.view_box
    image = panel.image_item.image
    placed = view.mapViewToDevice(QRectF(0, 0, image.shape[1], image.shape[0])).boundingRect()
    ranges = tuple(tuple(round(v, 6) for v in axis) for axis in view.viewRange())
    return (
        panel.graphics.size().toTuple(),
        ranges,
        tuple(round(v, 3) for v in placed.getRect()),
    )


def test_every_panel_has_the_same_geometry_in_every_case(
    qtbot, main_window, tmp_path, image_folder
):
    main_window.resize(1280, 800)
    _menu, controller, _path = _open(main_window, tmp_path, image_folder)
    seen = set()
    for index, case in enumerate(controller.order):
        if index == 2:
            main_window.resize(1237, 781)  # odd sizes must not make one panel a pixel larger
        wait_ratable(qtbot, controller, case)
        qtbot.wait(50)  # the views refit after the resize
        view = controller.view
        geometries = {_geometry(p) for p in view.all_panels()}
        assert len(geometries) == 1, geometries  # Original, A, B and C alike
        assert [p.title.text() for p in view.panels] == ["A", "B", "C"]
        assert all(p.map is not None for p in view.panels)  # the maps arrived together
        seen.add(tuple(controller.assignment))
        for key in (Qt.Key.Key_3, Qt.Key.Key_4, Qt.Key.Key_2):
            _press(qtbot, key)
        if case != controller.order[-1]:
            qtbot.waitUntil(lambda c=case: controller.case != c, timeout=5000)
    assert len(seen) > 1  # the method order really changed between cases


def test_four_methods_get_four_equal_cells(qtbot):
    rows = [PanelRating(label) for label in "ABCD"]
    view = BlindedComparison(rows)
    qtbot.addWidget(view)
    view.resize(1000, 700)
    view.show()
    qtbot.waitExposed(view)
    sizes = {p.graphics.size().toTuple() for p in view.all_panels()}
    assert len(sizes) == 1 and next(iter(sizes))[1] > 100


def test_tab_and_digit_sequences_rate_the_framed_panel(qtbot, main_window, tmp_path, image_folder):
    _menu, controller, path = _open(main_window, tmp_path, image_folder)
    case = controller.order[0]
    wait_ratable(qtbot, controller, case)
    rows = controller.rows
    assert [r.current for r in rows] == [True, False, False]  # framed on the first case
    _press(qtbot, Qt.Key.Key_3)  # A = 3, frame moves to B
    assert [r.current for r in rows] == [False, True, False]
    _press(qtbot, Qt.Key.Key_Tab)  # C
    _press(qtbot, Qt.Key.Key_5)  # C = 5, frame back to the next unrated: B
    assert rows[1].current
    _press(qtbot, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)  # A
    assert rows[0].current
    _press(qtbot, Qt.Key.Key_2)  # A changed to 2, frame to B
    assert rows[1].current
    _press(qtbot, Qt.Key.Key_Tab)
    _press(qtbot, Qt.Key.Key_Tab)  # B → C → A: the cycle wraps
    assert rows[0].current
    _press(qtbot, Qt.Key.Key_Tab)
    _press(qtbot, Qt.Key.Key_4)  # B = 4
    assert controller.bar.message.text() == ADVANCING_TEXT
    labels = dict(controller.assignment)
    with RatingStore.open(path, read_only=True) as store:
        scores = {r["panel"]: r["score"] for r in store.ratings() if r["case"] == case}
        audit = [(e["action"], e["panel"]) for e in store.audit_log()]
        methods = {r["panel"]: r["method"] for r in store.ratings()}
        recorded = {(r["variant"], r["geometry"]) for r in store.ratings()}
    assert scores == {"A": 2, "B": 4, "C": 5}
    assert audit == [("add", "A"), ("add", "C"), ("edit", "A"), ("add", "B")]
    assert methods == labels
    assert recorded == {("model", "square")}


def test_focus_ring_is_painted_even_when_the_window_is_not_active(
    qtbot, main_window, tmp_path, image_folder
):
    _menu, controller, _path = _open(main_window, tmp_path, image_folder)
    wait_ratable(qtbot, controller)
    main_window.controls.opacity_slider.setFocus()  # keyboard focus elsewhere
    framed = controller.rows[0].grab().toImage()
    pixel = QColor(framed.pixel(1, framed.height() // 2))
    assert (pixel.red(), pixel.green(), pixel.blue()) == (0x2A, 0x7A, 0xE2)
    other = QColor(controller.rows[1].grab().toImage().pixel(1, framed.height() // 2))
    assert other != pixel


def test_leave_button_restores_the_viewer(qtbot, main_window, tmp_path, image_folder):
    menu, controller, _path = _open(main_window, tmp_path, image_folder)
    assert main_window.browser.isHidden() and main_window.comparison.isHidden()
    kept = {"&File", "&View", "&Help", "&Prompts", menu.title()}
    others = [a for a in main_window.menuBar().actions() if a.text() not in kept]
    assert others and not any(a.isEnabled() for a in others)  # no other mode while rating
    qtbot.mouseClick(controller.bar.leave_button, Qt.MouseButton.LeftButton)
    assert all(a.isEnabled() for a in others)
    assert menu.controller is None and not menu.leave_action.isEnabled()
    assert not main_window.browser.isHidden() and not main_window.comparison.isHidden()
    assert not any(w.isVisible() for w in main_window.findChildren(BlindedComparison))
    assert not main_window.state.rating_mode


def test_prediction_hidden_unless_the_session_allows_it(qtbot, main_window, tmp_path, image_folder):
    chart = main_window.prompt_panel.chart
    assert chart.isVisible()
    menu, controller, _path = _open(main_window, tmp_path, image_folder)
    wait_ratable(qtbot, controller)
    assert not chart.isVisible()
    assert "hidden" in main_window.prompt_panel.status.text()
    assert all(not w.isVisible() for w in chart.findChildren(type(chart.parentWidget())))
    menu.leave()
    assert chart.isVisible()
    (tmp_path / "keys.mgsession").unlink()
    menu, controller, _path = _open(main_window, tmp_path, image_folder, show_prediction=True)
    wait_ratable(qtbot, controller)
    assert chart.isVisible()


def test_ctrl_z_undoes_the_last_score_of_the_case_audited(
    qtbot, main_window, tmp_path, image_folder
):
    _menu, controller, path = _open(main_window, tmp_path, image_folder)
    case = controller.order[0]
    wait_ratable(qtbot, controller, case)
    _press(qtbot, Qt.Key.Key_3)  # A
    _press(qtbot, Qt.Key.Key_1)  # B
    _press(qtbot, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    rows = controller.rows
    assert rows[1].current and not rows[1].is_saved() and rows[0].is_saved()
    assert "panel B was withdrawn" in controller.bar.message.text()
    _press(qtbot, Qt.Key.Key_4)  # B again
    with RatingStore.open(path, read_only=True) as store:
        assert [e["action"] for e in store.audit_log()] == ["add", "add", "undo", "add"]
        undone = store.audit_log()[2]
        assert (undone["panel"], undone["score"]) == ("B", 1)
        assert {r["panel"]: r["score"] for r in store.ratings()} == {"A": 3, "B": 4}
        assert store.replay_audit() == store.ratings() and store.tamper_findings == []


def test_scale_labels_and_no_auto_advance(qtbot, main_window, tmp_path, image_folder):
    _menu, controller, _path = _open(
        main_window, tmp_path, image_folder, scale_labels=LABELS, auto_advance=False
    )
    case = controller.order[0]
    wait_ratable(qtbot, controller, case)
    assert controller.bar.scale.isVisible()
    assert controller.bar.scale.text() == "Scores: " + " · ".join(
        f"{i} = {t}" for i, t in enumerate(LABELS, start=1)
    )
    assert controller.rows[0].buttons.button(5).toolTip() == "5 = spot on"
    assert "Ctrl+Z" in controller.bar.keys.text() and controller.bar.keys.isVisible()
    for _ in range(3):
        _press(qtbot, Qt.Key.Key_5)
    qtbot.wait(600)  # longer than the auto-advance delay
    assert controller.case == case and controller.bar.message.text() == CASE_DONE_TEXT
    _press(qtbot, Qt.Key.Key_PageDown)
    assert controller.case == controller.order[1]
