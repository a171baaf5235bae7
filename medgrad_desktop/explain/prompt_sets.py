"""Prompt sets: small YAML files of class prompts (with synonym ensembles), criterion prompts
and high-risk flags. Bundled sets live in ``resources/prompts``; edited copies in user data."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from medgrad_desktop.errors import PromptSetError
from medgrad_desktop.explain.prompt_schema import (
    MAX_PROMPT_FILE_BYTES,
    check_entry,
    check_top_level,
    parse_prompt_yaml,
)
from medgrad_desktop.paths import resource_path, user_subdir

log = logging.getLogger(__name__)

MAX_ITEMS = 200
MAX_TEXT_CHARS = 1000
DEFAULT_PROMPT_SET = "PH² criteria"
"""The set the viewer opens with (the demo model was trained on PH²-style classes)."""


@dataclass(frozen=True)
class PromptItem:
    """One prompt: a label and the texts whose embeddings are averaged (an ensemble)."""

    label: str
    texts: tuple[str, ...]
    kind: str = "class"  # "class" or "criterion"
    high_risk: bool = False
    points: int | None = None


@dataclass
class PromptSet:
    """A named list of class and criterion prompts."""

    name: str
    items: list[PromptItem]
    description: str = ""
    path: Path | None = field(default=None, compare=False)

    @property
    def classes(self) -> list[PromptItem]:
        return [item for item in self.items if item.kind == "class"]

    @property
    def criteria(self) -> list[PromptItem]:
        return [item for item in self.items if item.kind == "criterion"]

    def prompts(self) -> tuple[tuple[str, ...], ...]:
        """The ensembles in item order, as the engine and ``encode_prompts`` take them."""
        return tuple(item.texts for item in self.items)

    def labels(self) -> list[str]:
        return [item.label for item in self.items]

    def class_indices(self) -> list[int]:
        """Positions of the class items (their probabilities are a softmax over these)."""
        return [i for i, item in enumerate(self.items) if item.kind == "class"]

    def top_class(self, similarity) -> int | None:
        """Position of the class item with the highest similarity (None without classes)."""
        classes = self.class_indices()
        return most_similar(similarity, classes) if classes else None


def most_similar(similarity, candidates=()) -> int:
    """The position among ``candidates`` (all prompts when empty) of the highest similarity."""
    return max(candidates or range(len(similarity)), key=lambda i: float(similarity[i]))


def _parse_items(entries, kind: str, source: str) -> list[PromptItem]:
    if entries is None:
        return []
    if not isinstance(entries, list):
        raise PromptSetError(
            f"The prompt file {source} is not laid out as expected.",
            f"'{kind}' entries must be a list",
        )
    items = []
    for position, raw in enumerate(entries, start=1):
        entry = check_entry(raw, kind, position, source)
        if not entry["label"].strip():
            raise PromptSetError(f"A prompt in {source} has no label.", repr(entry))
        label = str(entry["label"]).strip()
        texts = entry.get("prompts") or [label]
        if isinstance(texts, str):
            texts = [texts]
        texts = tuple(str(t).strip() for t in texts if str(t).strip())
        if not texts or any(len(t) > MAX_TEXT_CHARS for t in texts):
            raise PromptSetError(f"The prompt '{label}' in {source} is empty or far too long.")
        points = entry.get("points")
        items.append(
            PromptItem(
                label=label,
                texts=texts,
                kind=kind,
                high_risk=entry.get("high_risk", False),
                points=int(points) if points is not None else None,
            )
        )
    return items


def prompt_set_from_mapping(data, source: str = "the prompt file") -> PromptSet:
    """Build and validate a ``PromptSet`` from parsed YAML."""
    check_top_level(data, source)
    items = _parse_items(data.get("classes"), "class", source) + _parse_items(
        data.get("criteria"), "criterion", source
    )
    if not items:
        raise PromptSetError(f"{source} contains no prompts.")
    if len(items) > MAX_ITEMS:
        raise PromptSetError(f"{source} has {len(items)} prompts; at most {MAX_ITEMS} are allowed.")
    name = str(data.get("name") or "Unnamed prompt set")
    return PromptSet(name=name, items=items, description=str(data.get("description") or ""))


def prompt_set_from_lines(lines: list[str], name: str = "Prompts") -> PromptSet:
    """One class prompt per non-empty line (plain text prompt files)."""
    return prompt_set_from_mapping({"name": name, "classes": [ln for ln in lines if ln.strip()]})


def load_prompt_set(path: str | Path) -> PromptSet:
    """Read a prompt set from YAML (``.yaml``/``.yml``) or plain text (one prompt per line)."""
    path = Path(path)
    try:
        with path.open("rb") as handle:  # bounded read: the size on disk may be a lie (FIFO)
            raw = handle.read(MAX_PROMPT_FILE_BYTES + 1)
        if len(raw) > MAX_PROMPT_FILE_BYTES:
            raise PromptSetError(f"The prompt file {path.name} is too large (over 1 MB).")
        text = raw.decode("utf-8-sig")
    except PromptSetError:
        raise
    except UnicodeDecodeError as exc:
        raise PromptSetError(f"The prompt file {path.name} is not UTF-8 text.", repr(exc)) from exc
    except OSError as exc:
        raise PromptSetError(f"The prompt file {path.name} cannot be read.", repr(exc)) from exc
    if not text.strip():
        raise PromptSetError(f"The prompt file {path.name} is empty.")
    if path.suffix.lower() not in (".yaml", ".yml"):
        prompt_set = prompt_set_from_lines(text.splitlines(), name=path.stem)
    else:
        prompt_set = prompt_set_from_mapping(parse_prompt_yaml(text, path.name), path.name)
    prompt_set.path = path
    return prompt_set


def prompt_set_to_mapping(prompt_set: PromptSet) -> dict:
    """The YAML-ready form of a prompt set."""

    def entry(item: PromptItem) -> dict:
        data: dict = {"label": item.label, "prompts": list(item.texts)}
        if item.high_risk:
            data["high_risk"] = True
        if item.points is not None:
            data["points"] = item.points
        return data

    return {
        "name": prompt_set.name,
        "description": prompt_set.description,
        "classes": [entry(i) for i in prompt_set.classes],
        "criteria": [entry(i) for i in prompt_set.criteria],
    }


def save_prompt_set(prompt_set: PromptSet, path: str | Path) -> Path:
    """Write a prompt set as YAML (atomically)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(
        yaml.safe_dump(prompt_set_to_mapping(prompt_set), allow_unicode=True, sort_keys=False),
        encoding="utf-8",
    )
    tmp.replace(path)
    prompt_set.path = path
    return path


def bundled_prompt_sets() -> dict[str, Path]:
    """Name → path of the prompt sets shipped in ``resources/prompts``."""
    found = {}
    for path in sorted(resource_path("prompts").glob("*.yaml")):
        try:
            found[load_prompt_set(path).name] = path
        except PromptSetError as exc:
            log.error("Bundled prompt set %s is invalid: %s (%s)", path, exc, exc.details)
    return found


def user_prompt_dir() -> Path:
    """Where edited prompt sets are saved."""
    return user_subdir("prompts")


def user_prompt_sets() -> dict[str, Path]:
    """Name → path of the user's edited prompt sets."""
    found = {}
    for path in sorted(user_prompt_dir().glob("*.yaml")):
        try:
            found[load_prompt_set(path).name] = path
        except PromptSetError as exc:
            log.warning("Skipping prompt set %s: %s", path, exc)
    return found


def user_copy_path(name: str) -> Path:
    """A file name in the user prompt folder for a set called ``name``."""
    slug = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip("-") or "prompts"
    return user_prompt_dir() / f"{slug}.yaml"
