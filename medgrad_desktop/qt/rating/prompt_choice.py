"""Which prompt set a rating session needs: one holding its prompts (or, for top-class
sessions, one with diagnosis classes), chosen in the window's prompt panel."""

from __future__ import annotations

import logging

from medgrad_desktop.errors import PromptSetError
from medgrad_desktop.explain.prompt_sets import PromptSet, load_prompt_set
from medgrad_desktop.review import SessionConfig

log = logging.getLogger(__name__)


def needed_prompts(config: SessionConfig) -> list[str]:
    if config.prompt_mode == "fixed":
        return [config.fixed_prompt]
    return list(config.criteria_prompts) if config.prompt_mode == "criteria" else []


def fits(prompt_set: PromptSet | None, config: SessionConfig) -> bool:
    if prompt_set is None:
        return False
    if config.prompt_mode == "top_class":
        return bool(prompt_set.class_indices())
    return set(needed_prompts(config)) <= set(prompt_set.labels())


def choose_prompt_set(panel, config: SessionConfig) -> str:
    """Select a prompt set of ``panel`` (a ``PromptPanel``) that fits; '' or the problem."""
    if fits(panel.prompt_set, config):
        return ""
    for position in range(panel.set_combo.count()):
        try:
            candidate = load_prompt_set(panel.set_combo.itemData(position))
        except PromptSetError as error:
            log.info("Skipping prompt set %s: %s", panel.set_combo.itemData(position), error)
            continue
        if fits(candidate, config):
            panel.set_combo.setCurrentIndex(position)
            return "" if fits(panel.prompt_set, config) else "The prompt set could not be opened."
    wanted = needed_prompts(config)
    if wanted:
        return f"No prompt set holds the prompt '{wanted[0]}' of this session."
    return "No prompt set has diagnosis classes, so the top class cannot be found."
