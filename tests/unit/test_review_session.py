"""RatingSession: blinding, resume, progress, prompt modes, missing images, odd reader ids."""

from __future__ import annotations

import re

import pytest

from medgrad_desktop.errors import SessionError
from medgrad_desktop.review import RatingSession, SessionConfig, safe_filename
from medgrad_desktop.review.naming import default_session_path

ODD_READERS = ["Dr. Müller/../x", "李医生", 'a:b*c?"<>|', "CON", " tab\tnew\nline ", "🙂 reader"]


@pytest.fixture
def images(tmp_path):
    folder = tmp_path / "images" / "sub"
    folder.mkdir(parents=True)
    paths = []
    for i in range(12):
        path = folder / f"lesion_{i:02d}.png"
        path.write_bytes(b"\x89PNG fake")
        paths.append(path)
    return paths


def _config(images, reader="reader-1", **kw):
    kw.setdefault("fixed_prompt", "a dermoscopic image of melanoma")
    return SessionConfig(reader=reader, images=images, seed=1234, **kw)


def test_blinded_order_stable_after_reopen_and_differs_between_readers(tmp_path, images):
    s1 = RatingSession.create(tmp_path / "r1.mgsession", _config(images, "reader-1"))
    s2 = RatingSession.create(tmp_path / "r2.mgsession", _config(images, "reader-2"))
    order1, panels1 = s1.cases_in_order(), {c: s1.panels(c) for c in s1.cases_in_order()}
    order2, panels2 = s2.cases_in_order(), {c: s2.panels(c) for c in s2.cases_in_order()}
    s1.close()
    s2.close()
    assert sorted(order1) == sorted(order2) and order1 != order2
    assert panels1 != panels2
    assert all([lab for lab, _ in p] == ["A", "B", "C"] for p in panels1.values())
    assert all(
        sorted(m for _, m in p) == ["gradcam", "gradeclip", "medgrad"] for p in panels1.values()
    )
    assert len({tuple(m for _, m in p) for p in panels1.values()}) > 1  # shuffled per case
    with RatingSession.open(tmp_path / "r1.mgsession") as again:
        assert again.cases_in_order() == order1
        assert {c: again.panels(c) for c in order1} == panels1
    assert set(order1) == {f"lesion_{i:02d}.png" for i in range(12)}  # relative to common folder


def test_resume_at_first_unrated_and_progress(tmp_path, images):
    path = tmp_path / "s.mgsession"
    with RatingSession.create(path, _config(images, methods=("gradcam", "medgrad"))) as s:
        order = s.cases_in_order()
        assert s.first_unrated_index() == 0 and s.progress() == (0, 12)
        for case in order[:3]:
            for label, _ in s.panels(case):
                s.rate(case, label, 4, display={"opacity": 0.5}, seconds_spent=2.0)
            assert s.is_case_complete(case)
        s.rate(order[3], "A", 2)
        assert not s.is_case_complete(order[3])
    with RatingSession.open(path) as s:
        assert s.first_unrated_index() == 3
        assert s.progress() == (3, 12)
        assert set(s.case_ratings(order[3])) == {("a dermoscopic image of melanoma", "A")}
        s.rate(order[3], "B", 5)
        assert s.first_unrated_index() == 4
        for case in order[4:]:
            for label, _ in s.panels(case):
                s.rate(case, label, 3)
        assert s.first_unrated_index() is None and s.progress() == (12, 12)


def test_rating_records_true_method_and_panel(tmp_path, images):
    with RatingSession.create(tmp_path / "s.mgsession", _config(images, model_id="clip-x")) as s:
        case = s.cases_in_order()[0]
        label, method = s.panels(case)[1]
        s.rate(
            case,
            label,
            2,
            flag=True,
            comment="misses the streaks",
            display={"opacity": 0.6, "colormap": "jet", "entropy_radius": 4},
            seconds_spent=7,
        )
        (r,) = s.store.ratings()
    assert (r["method"], r["panel"], r["score"], r["flag_wrong_region"]) == (method, label, 2, True)
    assert (r["opacity"], r["colormap"], r["entropy_radius"], r["model_id"]) == (
        0.6,
        "jet",
        4,
        "clip-x",
    )
    assert r["reader"] == "reader-1" and r["seconds_spent"] == 7


def test_missing_image_is_reported_not_fatal(tmp_path, images):
    path = tmp_path / "s.mgsession"
    RatingSession.create(path, _config(images)).close()
    images[5].unlink()
    with RatingSession.open(path) as s:
        assert s.missing_cases() == ["lesion_05.png"]
        order = s.cases_in_order()
        first = s.first_unrated_index()
        expected = 1 if order[0] == "lesion_05.png" else 0
        assert first == expected
        assert s.first_unrated_index(skip_missing=False) == 0


def test_missing_image_at_creation_refused(tmp_path, images):
    with pytest.raises(SessionError, match="cannot be found"):
        RatingSession.create(tmp_path / "s.mgsession", _config([*images, tmp_path / "gone.png"]))


@pytest.mark.parametrize("reader", ODD_READERS)
def test_odd_reader_ids(tmp_path, images, reader):
    name = safe_filename(reader)
    assert re.fullmatch(r"[\w-]+", name) and ".." not in name and "/" not in name
    assert name != safe_filename(reader + "x")
    path = tmp_path / f"{name}.mgsession"
    with RatingSession.create(path, _config(images, reader)) as s:
        case = s.cases_in_order()[0]
        s.rate(case, "A", 5)
    with RatingSession.open(path) as s:
        assert s.reader == reader
        assert s.store.ratings()[0]["reader"] == reader
    assert default_session_path("study/1", reader).parent.name == "sessions"


def test_top_class_prompt_resolved_once(tmp_path, images):
    cfg = _config(images, prompt_mode="top_class", fixed_prompt="")
    with RatingSession.create(tmp_path / "s.mgsession", cfg) as s:
        case = s.cases_in_order()[0]
        assert s.prompts(case) == []
        with pytest.raises(SessionError, match="not known yet"):
            s.rate(case, "A", 3)
        s.rate(case, "A", 3, prompt="melanoma")
        assert s.prompts(case) == ["melanoma"]
        with pytest.raises(SessionError, match="cannot change"):
            s.set_prompts(case, ["nevus"])


def test_criteria_prompts_each_rated(tmp_path, images):
    cfg = _config(
        images,
        prompt_mode="criteria",
        criteria_prompts=["streaks", "blue veil"],
        methods=("medgrad",),
    )
    with RatingSession.create(tmp_path / "s.mgsession", cfg) as s:
        case = s.cases_in_order()[0]
        with pytest.raises(SessionError, match="several prompts"):
            s.rate(case, "A", 3)
        s.rate(case, "A", 3, prompt="streaks")
        assert not s.is_case_complete(case)
        s.rate(case, "A", 4, prompt="blue veil")
        assert s.is_case_complete(case)


def test_fixed_display_flag_and_comment_policies(tmp_path, images):
    cfg = _config(
        images,
        display_policy="fixed",
        display={"opacity": 0.5, "colormap": "jet"},
        flag_wrong_region=False,
        comments=False,
        allow_edits=False,
    )
    with RatingSession.create(tmp_path / "s.mgsession", cfg) as s:
        case = s.cases_in_order()[0]
        with pytest.raises(SessionError, match="fixed"):
            s.rate(case, "A", 3, display={"opacity": 0.9})
        with pytest.raises(SessionError, match="flag"):
            s.rate(case, "A", 3, flag=True)
        with pytest.raises(SessionError, match="comments"):
            s.rate(case, "A", 3, comment="hm")
        s.rate(case, "A", 3)
        with pytest.raises(SessionError, match="does not allow changes"):
            s.rate(case, "A", 4)
        (r,) = s.store.ratings()
    assert (r["opacity"], r["colormap"], r["score"]) == (0.5, "jet", 3)


def test_existing_file_and_bad_setup_refused(tmp_path, images):
    path = tmp_path / "s.mgsession"
    RatingSession.create(path, _config(images)).close()
    with pytest.raises(SessionError, match="already exists"):
        RatingSession.create(path, _config(images))
    with pytest.raises(SessionError, match="methods"):
        RatingSession.create(tmp_path / "x.mgsession", _config(images, methods=("lime",)))
    with pytest.raises(SessionError, match="reader id"):
        RatingSession.create(tmp_path / "y.mgsession", _config(images, reader="  "))
