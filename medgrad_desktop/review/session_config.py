"""What a rating session is set up with (the setup dialog fills one ``SessionConfig``)."""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

from medgrad_desktop.errors import SessionError
from medgrad_desktop.review.blinding import PANEL_LABELS
from medgrad_desktop.review.schema import ALL_METHODS, METHOD_TITLES, METHODS, SCORE_MAX, SCORE_MIN

PROMPT_MODES = ("fixed", "top_class", "criteria")
"""fixed: one prompt for every case; top_class: the model's top predicted class, known once
the case is first shown; criteria: every criterion prompt of a prompt set, for every case."""

DISPLAY_POLICIES = ("free", "fixed")
DISPLAY_KEYS = ("opacity", "colormap", "entropy_radius", "model_id", "variant", "geometry")

DEFAULT_SCALE_LABELS = (
    "misses the region",
    "mostly misses the region",
    "partly on the region",
    "mostly on the region",
    "exactly the diagnostic region",
)
"""What scores 1–5 mean, shown on screen while rating (editable per session)."""
SECONDS_PER_RATING = 6.0
"""Rough time a reader needs for one map, for the workload estimate of the setup dialog."""


@dataclass(frozen=True)
class SessionConfig:
    """Setup of one reader's session. Stored in the session file at creation, never changed."""

    reader: str
    images: Sequence[str | os.PathLike[str]]
    base_folder: str | os.PathLike[str] | None = None
    study: str = "default"
    prompt_mode: str = "fixed"
    fixed_prompt: str = ""
    criteria_prompts: Sequence[str] = ()
    methods: Sequence[str] = METHODS
    flag_wrong_region: bool = True
    comments: bool = True
    seed: int | None = None
    display_policy: str = "free"
    display: dict[str, Any] = field(default_factory=dict)
    model_id: str = ""
    allow_edits: bool = True
    scale_labels: Sequence[str] = DEFAULT_SCALE_LABELS
    show_prediction: bool = False
    auto_advance: bool = True

    def problems(self) -> dict[str, str]:
        """``{field: plain sentence}`` for every setting that is wrong (empty when all fit).

        Fields: study, reader, images, prompt, methods, scale_labels, display.
        """
        found: dict[str, str] = {}
        if not isinstance(self.reader, str) or not self.reader.strip():
            found["reader"] = "Please enter a reader id."
        if not self.study or not str(self.study).strip():
            found["study"] = "Please enter a study name."
        if not self.images:
            found["images"] = "The session has no images; choose an image folder or list."
        criteria = [p for p in self.criteria_prompts if p.strip()]
        if self.prompt_mode not in PROMPT_MODES:
            found["prompt"] = f"'{self.prompt_mode}' is not a prompt mode."
        elif self.prompt_mode == "fixed" and not self.fixed_prompt.strip():
            found["prompt"] = "Please enter the prompt to use for every case."
        elif self.prompt_mode == "criteria" and not criteria:
            found["prompt"] = "The criterion prompt list is empty."
        elif len(set(criteria)) != len(criteria):
            found["prompt"] = "The criterion prompt list has the same prompt twice."
        methods = list(dict.fromkeys(self.methods))
        if not methods or any(m not in ALL_METHODS for m in methods):
            titles = [METHOD_TITLES[m] for m in ALL_METHODS]
            found["methods"] = (
                f"Choose one or more methods among {', '.join(titles[:-1])} and {titles[-1]}."
            )
        elif len(methods) > len(PANEL_LABELS):
            found["methods"] = "Too many methods to show side by side."
        labels = list(self.scale_labels)
        if len(labels) != SCORE_MAX - SCORE_MIN + 1 or not all(str(t).strip() for t in labels):
            found["scale_labels"] = "Please give every score of the scale a short meaning."
        if self.display_policy not in DISPLAY_POLICIES:
            found["display"] = f"'{self.display_policy}' is not a display policy."
        elif set(self.display) - set(DISPLAY_KEYS):
            found["display"] = "The display settings hold unknown entries."
        return found

    def validated(self) -> SessionConfig:
        """A checked copy with a concrete seed and tuples; SessionError names the problem."""
        found = self.problems()
        if found:
            raise SessionError(next(iter(found.values())), details=f"problems: {found}")
        seed = self.seed if self.seed is not None else secrets.randbits(63)
        return replace(
            self,
            images=tuple(self.images),
            criteria_prompts=tuple(p for p in self.criteria_prompts if p.strip()),
            methods=tuple(dict.fromkeys(self.methods)),
            seed=int(seed),
            display=dict(self.display),
            scale_labels=tuple(str(t).strip() for t in self.scale_labels),
        )

    def workload(self, prompts_per_case: int | None = None) -> tuple[int, str]:
        """``(ratings, sentence)``: e.g. "12 cases × 17 prompts × 3 maps = 612 ratings, about
        61 minutes". ``prompts_per_case`` is needed in criteria mode (else 1)."""
        prompts = prompts_per_case or (
            len(self.criteria_prompts) if self.prompt_mode == "criteria" else 1
        )
        cases, maps = len(self.images), len(dict.fromkeys(self.methods))
        total = cases * prompts * maps
        minutes = max(1, round(total * SECONDS_PER_RATING / 60)) if total else 0
        prompt_part = f" × {prompts} prompts" if prompts != 1 else " × 1 prompt"
        unit = "minute" if minutes == 1 else "minutes"
        return total, (
            f"{cases} cases{prompt_part} × {maps} maps = {total} ratings, about {minutes} {unit}"
        )

    def to_json(self) -> str:
        """The setup as JSON, without the image list (stored per case)."""
        data = asdict(self)
        data.pop("images")
        data["base_folder"] = str(self.base_folder) if self.base_folder is not None else None
        data["methods"] = list(self.methods)
        data["criteria_prompts"] = list(self.criteria_prompts)
        data["scale_labels"] = list(self.scale_labels)
        data["scale"] = "likert-1-5"
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, images: Sequence[str]) -> SessionConfig:
        """Rebuild a stored setup (``images`` as stored, relative to ``base_folder``)."""
        data = json.loads(text)
        data.pop("scale", None)
        data["methods"] = tuple(data["methods"])
        data["criteria_prompts"] = tuple(data["criteria_prompts"])
        data["scale_labels"] = tuple(data.get("scale_labels", DEFAULT_SCALE_LABELS))
        return cls(images=tuple(images), **data)


def case_ids(
    images: Sequence[str | os.PathLike[str]], base_folder: str | os.PathLike[str] | None
) -> tuple[Path, list[str]]:
    """``(base, case_ids)``: a case id is the image path relative to ``base`` when possible
    (POSIX form), else the absolute path.

    ``base`` defaults to the deepest folder holding every image. Images must exist now.
    """
    paths = [Path(p).expanduser().absolute() for p in images]
    missing = [p for p in paths if not p.is_file()]
    if missing:
        raise SessionError(
            f"{len(missing)} image(s) of the session cannot be found, e.g. '{missing[0].name}'.",
            details="\n".join(str(p) for p in missing[:50]),
        )
    base = Path(base_folder).expanduser().absolute() if base_folder else None
    if base is None:
        base = Path(os.path.commonpath([str(p.parent) for p in paths]))
    cases: list[str] = []
    seen: set[str] = set()
    for path in paths:
        try:
            stored = path.relative_to(base).as_posix()
        except ValueError:
            stored = path.as_posix()
        if stored in seen:
            raise SessionError(f"The image '{path.name}' is listed twice.", details=str(path))
        cases.append(stored)
        seen.add(stored)
    return base, cases
