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
from medgrad_desktop.review.schema import METHODS

PROMPT_MODES = ("fixed", "top_class", "criteria")
"""fixed: one prompt for every case; top_class: the model's top predicted class, known once
the case is first shown; criteria: every criterion prompt of a prompt set, for every case."""

DISPLAY_POLICIES = ("free", "fixed")
DISPLAY_KEYS = ("opacity", "colormap", "entropy_radius", "model_id")


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

    def validated(self) -> SessionConfig:
        """A checked copy with a concrete seed and tuples; SessionError names the problem."""
        if not isinstance(self.reader, str) or not self.reader.strip():
            raise SessionError("Please enter a reader id.")
        if not self.study or not str(self.study).strip():
            raise SessionError("Please enter a study name.")
        if not self.images:
            raise SessionError("The session has no images; choose an image folder or list.")
        if self.prompt_mode not in PROMPT_MODES:
            raise SessionError(f"'{self.prompt_mode}' is not a prompt mode.")
        if self.prompt_mode == "fixed" and not self.fixed_prompt.strip():
            raise SessionError("Please enter the prompt to use for every case.")
        criteria = tuple(p for p in self.criteria_prompts if p.strip())
        if self.prompt_mode == "criteria" and not criteria:
            raise SessionError("The criterion prompt list is empty.")
        if len(set(criteria)) != len(criteria):
            raise SessionError("The criterion prompt list has the same prompt twice.")
        methods = tuple(dict.fromkeys(self.methods))
        unknown = [m for m in methods if m not in METHODS]
        if unknown or not methods:
            raise SessionError(
                "Choose one or more methods among Grad-CAM, Grad-ECLIP and MedGrad-ECLIP.",
                details=f"given {list(self.methods)}",
            )
        if len(methods) > len(PANEL_LABELS):
            raise SessionError("Too many methods to show side by side.")
        if self.display_policy not in DISPLAY_POLICIES:
            raise SessionError(f"'{self.display_policy}' is not a display policy.")
        extra = set(self.display) - set(DISPLAY_KEYS)
        if extra:
            raise SessionError(
                "The display settings hold unknown entries.", details=f"unknown {sorted(extra)}"
            )
        seed = self.seed if self.seed is not None else secrets.randbits(63)
        return replace(
            self,
            images=tuple(self.images),
            criteria_prompts=criteria,
            methods=methods,
            seed=int(seed),
            display=dict(self.display),
        )

    def to_json(self) -> str:
        """The setup as JSON, without the image list (stored per case)."""
        data = asdict(self)
        data.pop("images")
        data["base_folder"] = str(self.base_folder) if self.base_folder is not None else None
        data["methods"] = list(self.methods)
        data["criteria_prompts"] = list(self.criteria_prompts)
        data["scale"] = "likert-1-5"
        return json.dumps(data, ensure_ascii=False, sort_keys=True)

    @classmethod
    def from_json(cls, text: str, images: Sequence[str]) -> SessionConfig:
        """Rebuild a stored setup (``images`` as stored, relative to ``base_folder``)."""
        data = json.loads(text)
        data.pop("scale", None)
        data["methods"] = tuple(data["methods"])
        data["criteria_prompts"] = tuple(data["criteria_prompts"])
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
