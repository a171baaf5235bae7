"""Prompt-set YAML: aliases, anchors, size and field types are refused with plain messages."""

from __future__ import annotations

import pytest

from medgrad_desktop.errors import PromptSetError
from medgrad_desktop.explain.prompt_schema import MAX_PROMPT_FILE_BYTES
from medgrad_desktop.explain.prompt_sets import load_prompt_set

ALIAS_BOMB = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}" + f",*{chr(97 + i)}" * 8 + "]"
        for i in range(8)
    ]
    + ["classes: [*i]"]
)


def _write(tmp_path, text: str, name: str = "set.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_the_alias_bomb_is_refused_at_once(tmp_path):
    assert len(ALIAS_BOMB) < 400  # the attack: a few hundred bytes, 9⁹ strings when expanded
    with pytest.raises(PromptSetError, match="anchors or aliases") as raised:
        load_prompt_set(_write(tmp_path, ALIAS_BOMB))
    assert "line 1" in raised.value.details


def test_a_single_anchor_is_refused_too(tmp_path):
    text = "name: x\nclasses:\n  - &m {label: melanoma}\n  - label: nevus\n"
    with pytest.raises(PromptSetError, match="anchors or aliases"):
        load_prompt_set(_write(tmp_path, text))


def test_a_file_over_one_megabyte_is_refused(tmp_path):
    body = "name: big\nclasses:\n" + "  - label: nevus\n" * (MAX_PROMPT_FILE_BYTES // 16 + 10)
    with pytest.raises(PromptSetError, match="too large"):
        load_prompt_set(_write(tmp_path, body))
    fine = "name: ok\nclasses:\n" + "  - label: nevus\n" * 150
    assert len(load_prompt_set(_write(tmp_path, fine, "ok.yaml")).items) == 150


@pytest.mark.parametrize(
    ("entry", "field"),
    [
        ("{label: melanoma, high_risk: 'false'}", "high_risk"),
        ("{label: melanoma, high_risk: 1}", "high_risk"),
        ("{label: 12}", "label"),
        ("{label: melanoma, prompts: {a: b}}", "prompts"),
        ("{label: melanoma, prompts: [melanoma, 3]}", "prompts"),
        ("{label: melanoma, points: two}", "points"),
        ("{label: melanoma, points: true}", "points"),
        ("{label: melanoma, highrisk: true}", "highrisk"),
    ],
)
def test_wrong_types_name_the_field(tmp_path, entry, field):
    text = f"name: test\nclasses:\n  - {{label: nevus}}\n  - {entry}\n"
    with pytest.raises(PromptSetError, match=f"class 2: the field '{field}'"):
        load_prompt_set(_write(tmp_path, text))


@pytest.mark.parametrize(
    ("text", "field"),
    [("name: [a]\nclasses: [nevus]\n", "name"), ("name: x\nclasses: nevus\n", "classes")],
)
def test_wrong_top_level_types_name_the_field(tmp_path, text, field):
    with pytest.raises(PromptSetError, match=f"the field '{field}'"):
        load_prompt_set(_write(tmp_path, text))


def test_yaml_booleans_are_read_as_booleans(tmp_path):
    text = (
        "name: t\nclasses:\n  - {label: melanoma, high_risk: true}\n"
        "  - {label: nevus, high_risk: false}\ncriteria:\n  - {label: streaks, points: 2}\n"
    )
    prompt_set = load_prompt_set(_write(tmp_path, text))
    assert [item.high_risk for item in prompt_set.items] == [True, False, False]
    assert prompt_set.criteria[0].points == 2
