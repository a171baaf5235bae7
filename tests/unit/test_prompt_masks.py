"""Which drawn masks belong to a prompt: exact names (case and spacing ignored) and the listed
aliases of the bundled prompt sets, never a part of a longer name."""

from __future__ import annotations

from medgrad_desktop.explain.evaluation.datasets import (
    ISIC_ATTRIBUTE_PROMPTS,
    synthetic_attribute_prompts,
)
from medgrad_desktop.explain.evaluation.prompt_masks import attributes_for_prompt

SYNTHETIC = synthetic_attribute_prompts()


def test_synthetic_structures_under_their_ph2_and_seven_point_names():
    assert attributes_for_prompt(SYNTHETIC, "typical pigment network") == [
        "typical_pigment_network"
    ]
    assert attributes_for_prompt(SYNTHETIC, "atypical pigment network") == [
        "atypical_pigment_network"
    ]  # "typical pigment network" is part of it but another structure
    assert attributes_for_prompt(SYNTHETIC, "typical dots/globules") == ["regular_dots_globules"]
    assert attributes_for_prompt(SYNTHETIC, "Irregular  Streaks") == ["irregular_streaks"]
    assert attributes_for_prompt(SYNTHETIC, "streaks", ["streaks present"]) == ["irregular_streaks"]
    assert attributes_for_prompt(SYNTHETIC, "veil", ["blue-whitish veil present"]) == [
        "blue_whitish_veil"
    ]
    assert attributes_for_prompt(SYNTHETIC, "melanoma", ["melanoma"]) == []
    assert attributes_for_prompt(SYNTHETIC, "pigment network") == []


def test_isic_attributes_and_an_edited_mapping():
    assert attributes_for_prompt(ISIC_ATTRIBUTE_PROMPTS, "atypical pigment network") == [
        "pigment_network"
    ]
    assert attributes_for_prompt(ISIC_ATTRIBUTE_PROMPTS, "irregular dots/globules") == ["globules"]
    assert attributes_for_prompt(ISIC_ATTRIBUTE_PROMPTS, "blue-whitish veil") == []
    edited = {"milia_like_cyst": "milia-like cysts", "negative_network": "negative network"}
    assert attributes_for_prompt(edited, "white cysts", ["Milia-like cysts"]) == ["milia_like_cyst"]
