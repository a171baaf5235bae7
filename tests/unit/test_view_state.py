"""The Qt-free view state: validated assignments, change events only on real changes, and the
follow-top-class rules of prompt choice and rating mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from medgrad_desktop.engine.view_state import ViewState


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("opacity", 1.5),
        ("opacity", "half"),
        ("radius", 0),
        ("radius", 2.5),
        ("colormap", "rainbow"),
        ("methods", ("gradcam", "saliency")),
        ("methods", ()),
        ("variant", "paper"),
        ("geometry", "round"),
        ("follow_top_class", "yes"),
        ("prompt_index", -1),
    ],
)
def test_bad_values_are_refused_and_leave_the_state_unchanged(field, bad):
    state = ViewState()
    before = state.as_dict()
    events = []
    getattr(state.events, field).connect(events.append)
    with pytest.raises(ValueError):
        setattr(state, field, bad)
    assert state.as_dict() == before and events == []


def test_changes_are_announced_once_and_normalised():
    state = ViewState()
    seen = []
    state.events.connect(lambda info: seen.append((info.signal.name, info.args[0])))
    state.opacity = 0.3
    state.opacity = 0.3  # no change, no event
    state.radius = 7.0  # a whole number given as float is kept as int
    state.image = "a/b.png"
    state.methods = ["medgrad", "gradcam"]  # canonical order
    assert seen == [
        ("opacity", 0.3),
        ("radius", 7),
        ("image", Path("a/b.png")),
        ("methods", ("gradcam", "medgrad")),
    ]
    assert isinstance(state.radius, int)
    with pytest.raises(AttributeError):
        state.zoom = 2  # not a field


def test_choosing_a_prompt_stops_following_except_in_rating_mode():
    state = ViewState()
    assert state.follow_effective()
    state.rating_mode = True
    assert not state.follow_effective()
    state.choose_prompt(3)
    assert state.prompt_index == 3 and state.follow_top_class  # the session chose, not the reader
    state.rating_mode = False
    assert state.follow_effective()  # following resumes after the session
    state.choose_prompt(1)
    assert state.prompt_index == 1 and not state.follow_top_class
