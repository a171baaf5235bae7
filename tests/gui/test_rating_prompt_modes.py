"""Criterion and top-class prompt modes: the right prompt set, one prompt after another."""

from __future__ import annotations

import pytest

from medgrad_desktop.qt.rating import install_rating_mode
from medgrad_desktop.review import RatingSession, RatingStore, SessionConfig
from tests.gui.rating_helpers import wait_ratable

pytestmark = pytest.mark.gui


def _images(folder) -> list:
    return sorted(folder.glob("*.png"))[:2]


def test_criteria_mode_switches_prompt_set_and_walks_the_prompts(
    qtbot, main_window, tmp_path, image_folder
):
    path = tmp_path / "criteria.mgsession"
    criteria = ["streaks", "blue-whitish veil"]  # PH² criteria, not in the first prompt set
    config = SessionConfig(
        reader="r",
        images=_images(image_folder),
        prompt_mode="criteria",
        criteria_prompts=criteria,
        seed=2,
        methods=("gradcam", "medgrad"),
    )
    RatingSession.create(path, config).close()
    menu = install_rating_mode(main_window)
    assert menu.open_session(path)
    controller = menu.controller
    assert main_window.prompt_panel.prompt_set.name == "PH² criteria"
    assert [slot.isVisible() for slot in controller.mode.slots] == [True, True]  # A, B only
    case = controller.case
    for prompt in criteria:
        wait_ratable(qtbot, controller, case)
        assert controller.prompt == prompt
        labels = main_window.prompt_panel.prompt_set.labels()
        assert main_window.controller.shown.prompt_index == labels.index(prompt)
        assert controller.rate(0, 2) and controller.rate(1, 4)
        qtbot.waitUntil(
            lambda p=prompt: controller.prompt != p or controller.case != case, timeout=5000
        )
    assert controller.case != case and controller.prompt == criteria[0]
    with RatingStore.open(path, read_only=True) as store:
        rated = {(r["prompt"], r["method"]) for r in store.ratings() if r["case"] == case}
    assert rated == {(p, m) for p in criteria for m in ("gradcam", "medgrad")}


def test_top_class_mode_records_the_predicted_class(qtbot, main_window, tmp_path, image_folder):
    path = tmp_path / "top.mgsession"
    config = SessionConfig(
        reader="r", images=_images(image_folder), prompt_mode="top_class", seed=4
    )
    RatingSession.create(path, config).close()
    evidence = {}
    main_window.bridge.sig_evidence_ready.connect(
        lambda _id, image, found: evidence.setdefault(image, found.similarity)
    )
    menu = install_rating_mode(main_window)
    assert menu.open_session(path)
    controller = menu.controller
    wait_ratable(qtbot, controller)
    prompt_set = main_window.prompt_panel.prompt_set
    similarity = evidence[controller.session.image_path(controller.case)]
    top = max(prompt_set.class_indices(), key=lambda i: float(similarity[i]))
    assert controller.prompt == prompt_set.items[top].label
    assert controller.bar.prompt.text() == f"Prompt: {controller.prompt}"
    case = controller.case
    assert controller.rate(0, 3)
    with RatingSession.open(path, read_only=True) as session:
        assert session.prompts(case) == [controller.prompt]
