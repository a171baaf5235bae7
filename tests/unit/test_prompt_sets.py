"""Prompt sets: the bundled YAML files, saving edited copies, and bad prompt files."""

from __future__ import annotations

import numpy as np
import pytest

from medgrad_desktop.errors import PromptSetError
from medgrad_desktop.explain.prompt_sets import (
    DEFAULT_PROMPT_SET,
    MAX_PROMPT_FILE_BYTES,
    bundled_prompt_sets,
    load_prompt_set,
    save_prompt_set,
    user_copy_path,
    user_prompt_sets,
)


def test_bundled_sets_match_the_design():
    sets = {name: load_prompt_set(path) for name, path in bundled_prompt_sets().items()}
    assert set(sets) == {"PH² criteria", "7-point checklist", "ISIC 2018 classes"}
    assert DEFAULT_PROMPT_SET in sets
    ph2 = sets["PH² criteria"]
    assert [c.label for c in ph2.classes] == ["common nevus", "atypical nevus", "melanoma"]
    assert [c.label for c in ph2.classes if c.high_risk] == ["melanoma"]
    isic = sets["ISIC 2018 classes"]
    assert len(isic.classes) == 7
    assert {c.label for c in isic.classes if c.high_risk} == {
        "melanoma",
        "basal cell carcinoma",
        "actinic keratosis / intraepithelial carcinoma",
    }
    seven = sets["7-point checklist"]
    assert sorted(c.points for c in seven.criteria) == [1, 1, 1, 1, 2, 2, 2]


def test_save_roundtrip_and_user_copies():
    prompt_set = load_prompt_set(bundled_prompt_sets()["ISIC 2018 classes"])
    prompt_set.name = "My ISIC"
    path = save_prompt_set(prompt_set, user_copy_path(prompt_set.name))
    again = load_prompt_set(path)
    assert again == prompt_set
    assert user_prompt_sets() == {"My ISIC": path}


def test_top_class_ignores_criteria():
    prompt_set = load_prompt_set(bundled_prompt_sets()["PH² criteria"])
    similarity = np.zeros(len(prompt_set.items))
    similarity[5] = 0.9  # a criterion: never a class
    similarity[1] = 0.3
    assert prompt_set.top_class(similarity) == 1
    seven = load_prompt_set(bundled_prompt_sets()["7-point checklist"])
    assert seven.top_class(np.ones(len(seven.items))) is None


def test_plain_text_file_is_one_class_per_line(tmp_path):
    path = tmp_path / "mine.txt"
    path.write_text("melanoma\n\n  nevus  \n", encoding="utf-8")
    prompt_set = load_prompt_set(path)
    assert prompt_set.labels() == ["melanoma", "nevus"]
    assert prompt_set.prompts() == (("melanoma",), ("nevus",))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"name: x\nclasses: []\ncriteria: []\n", "no prompts"),
        (b"classes: [\n", "not valid YAML"),
        ("classes: [mélanome]".encode("latin-1"), "not UTF-8"),
        (b"- just a list\n", "not a prompt set"),
        (b"classes:\n  - prompts: [x]\n", "no label"),
    ],
)
def test_bad_prompt_files(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_bytes(content)
    with pytest.raises(PromptSetError, match=message):
        load_prompt_set(path)


def test_enormous_prompt_file_refused(tmp_path):
    path = tmp_path / "huge.txt"
    path.write_text("melanoma\n" * (MAX_PROMPT_FILE_BYTES // 9 + 10), encoding="utf-8")
    with pytest.raises(PromptSetError, match="too large"):
        load_prompt_set(path)
