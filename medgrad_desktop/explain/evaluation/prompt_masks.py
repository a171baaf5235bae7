"""Which drawn masks belong to a prompt of a prompt set (the viewer's mask outline).

A mask set's attribute → prompt mapping (``datasets``) names each attribute with one phrase
("irregular dots/globules"); the bundled prompt sets name the same structures their own way
(PH²: "atypical dots/globules"). An attribute belongs to a prompt when its phrase, or one of
its aliases below, equals the prompt's label or one of its texts (case and spacing ignored).
Diagnoses ("melanoma") name no drawn structure, so they have no mask.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

OUTLINE_ALIASES: dict[str, tuple[str, ...]] = {
    # synthetic structures (training.synthetic) under their PH² / 7-point names
    "regular_dots_globules": ("typical dots/globules",),
    "irregular_dots_globules": ("atypical dots/globules",),
    "irregular_streaks": ("streaks",),
    "blue_whitish_veil": ("blue-whitish veil",),
    "regression_structures": ("regression areas",),
    # ISIC 2018 Task 2 attributes: drawn without telling typical from atypical
    "pigment_network": ("typical pigment network", "atypical pigment network"),
    "globules": (
        "typical dots/globules",
        "atypical dots/globules",
        "irregular dots/globules",
        "regular dots/globules",
    ),
    "streaks": ("irregular streaks",),
}
"""Attribute → further prompt-set labels that name the same drawn structure."""


def _normal(text: str) -> str:
    return " ".join(str(text).casefold().split())


def attributes_for_prompt(
    attribute_prompts: Mapping[str, str], label: str, texts: Iterable[str] = ()
) -> list[str]:
    """The attributes (in mapping order) whose drawn masks show the prompt ``label`` (with
    its ensemble ``texts``); empty when the prompt names no drawn structure."""
    names = {_normal(label), *(_normal(t) for t in texts)}
    return [
        attribute
        for attribute, phrase in attribute_prompts.items()
        if names & {_normal(phrase), *(_normal(a) for a in OUTLINE_ALIASES.get(attribute, ()))}
    ]
