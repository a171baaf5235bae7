"""A reader's blinded rating session, as the rating mode drives it (no Qt here).

Typical GUI loop::

    session = RatingSession.open(path)
    order = session.cases_in_order()
    index = session.first_unrated_index()          # None when all done
    case = order[index]
    for prompt in session.prompts(case):             # empty until set_prompts in top_class mode
        for label, _method in session.panels(case):  # show labels only, never the method
            session.rate(case, label, score, prompt=prompt, display=..., seconds_spent=...)
    session.is_case_complete(case); session.progress()
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from medgrad_desktop.errors import SessionError
from medgrad_desktop.review.blinding import case_order, panel_assignment
from medgrad_desktop.review.schema import DEFAULT_GEOMETRY, DEFAULT_VARIANT
from medgrad_desktop.review.session_config import DISPLAY_KEYS, SessionConfig, case_ids
from medgrad_desktop.review.store import RatingStore

log = logging.getLogger(__name__)

_CONFIG_KEY = "session_config"


class RatingSession:
    """One reader's session file: setup, blinded order, ratings. Open with ``create``/``open``."""

    def __init__(self, store: RatingStore, config: SessionConfig) -> None:
        self.store = store
        self.config = config
        self.path = store.path
        self._order = case_order(config.seed, config.reader, config.images)
        self._case_set = frozenset(self._order)

    # ------------------------------------------------------------- lifecycle
    @classmethod
    def create(cls, path: str | os.PathLike[str], config: SessionConfig) -> RatingSession:
        """Create a new session file from ``config`` (refused if the file already exists)."""
        path = Path(path)
        config = config.validated()
        if path.exists():
            raise SessionError(
                f"A session file named '{path.name}' already exists; open it instead.",
                details=str(path),
            )
        base, cases = case_ids(config.images, config.base_folder)
        config = replace(config, images=tuple(cases), base_folder=str(base))
        store = RatingStore.open(path, study=config.study)
        try:
            with store.transaction("create the session") as conn:
                conn.executemany(
                    "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                    [
                        (_CONFIG_KEY, config.to_json()),
                        ("reader", config.reader),
                        ("allow_edits", "1" if config.allow_edits else "0"),
                    ],
                )
                conn.executemany(
                    "INSERT INTO session_case (case_id, image_path, position) VALUES (?, ?, ?)",
                    [(case, case, i) for i, case in enumerate(cases)],
                )
                initial_prompts = _initial_prompts(config)
                if initial_prompts:
                    conn.executemany(
                        "INSERT INTO case_prompt (case_id, position, prompt) VALUES (?, ?, ?)",
                        [
                            (case, i, prompt)
                            for case in cases
                            for i, prompt in enumerate(initial_prompts)
                        ],
                    )
        except BaseException:
            store.close()
            raise
        log.info("Created session %s for study %s (%d cases)", path, config.study, len(cases))
        return cls(store, config)

    @classmethod
    def open(cls, path: str | os.PathLike[str], *, read_only: bool = False) -> RatingSession:
        """Reopen a session file; blinding and progress are as they were."""
        store = RatingStore.open(path, read_only=read_only)
        try:
            stored = store.get_meta(_CONFIG_KEY)
            if stored is None:
                raise SessionError(
                    f"'{store.path.name}' holds ratings but no session setup, so it cannot be "
                    "resumed.",
                    details=str(store.path),
                )
            images = [
                r[0] for r in store.query("SELECT case_id FROM session_case ORDER BY position")
            ]
            config = SessionConfig.from_json(stored, images)
        except BaseException:
            store.close()
            raise
        return cls(store, config)

    def close(self) -> None:
        """Close the session file (every rating is already saved)."""
        self.store.close()

    def __enter__(self) -> RatingSession:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def reader(self) -> str:
        return self.config.reader

    @property
    def study(self) -> str:
        return self.store.study

    # ------------------------------------------------------------- cases
    def cases_in_order(self) -> list[str]:
        """Case ids in this reader's (blinded, reproducible) order."""
        return list(self._order)

    def image_path(self, case: str) -> Path:
        """Where the image of ``case`` is expected on this machine."""
        self._check_case(case)
        stored = Path(case)
        return stored if stored.is_absolute() else Path(self.config.base_folder) / stored

    def missing_cases(self) -> list[str]:
        """Cases whose image is no longer where it was when the session was created."""
        return [case for case in self._order if not self.image_path(case).is_file()]

    def panels(self, case: str) -> list[tuple[str, str]]:
        """``[(panel_label, method), ...]`` for ``case``; show the labels, never the methods."""
        self._check_case(case)
        return panel_assignment(self.config.seed, self.config.reader, case, self.config.methods)

    def prompts(self, case: str) -> list[str]:
        """The prompt(s) rated for ``case``; empty until known in ``top_class`` mode."""
        self._check_case(case)
        rows = self.store.query(
            "SELECT prompt FROM case_prompt WHERE case_id = ? ORDER BY position", (case,)
        )
        return [r[0] for r in rows]

    def set_prompts(self, case: str, prompts: Sequence[str]) -> None:
        """Record the prompt(s) of ``case`` once known (top predicted class); fixed thereafter."""
        prompts = [p for p in prompts if p.strip()]
        if not prompts:
            raise SessionError("The prompt for this case is empty.")
        current = self.prompts(case)
        if current == prompts:
            return
        if current:
            raise SessionError(
                "The prompt of this case was already recorded and cannot change.",
                details=f"{case}: stored {current}, given {prompts}",
            )
        with self.store.transaction("save the prompt of the case") as conn:
            conn.executemany(
                "INSERT INTO case_prompt (case_id, position, prompt) VALUES (?, ?, ?)",
                [(case, i, p) for i, p in enumerate(prompts)],
            )

    # ------------------------------------------------------------- progress
    def case_ratings(self, case: str) -> dict[tuple[str, str], dict[str, Any]]:
        """Current ratings of ``case`` keyed by ``(prompt, panel_label)``."""
        label_of = {method: label for label, method in self.panels(case)}
        rows = [r for r in self.store.ratings(self.reader) if r["case"] == case]
        return {(r["prompt"], label_of[r["method"]]): r for r in rows if r["method"] in label_of}

    def _rated_keys(self) -> set[tuple[str, str, str]]:
        return {(r["case"], r["prompt"], r["method"]) for r in self.store.ratings(self.reader)}

    def _complete(self, case: str, rated: set[tuple[str, str, str]], prompts: list[str]) -> bool:
        return bool(prompts) and all(
            (case, prompt, method) in rated for prompt in prompts for method in self.config.methods
        )

    def _prompts_by_case(self) -> dict[str, list[str]]:
        by_case: dict[str, list[str]] = {case: [] for case in self._order}
        for case, prompt in self.store.query(
            "SELECT case_id, prompt FROM case_prompt ORDER BY case_id, position"
        ):
            by_case[case].append(prompt)
        return by_case

    def is_case_complete(self, case: str) -> bool:
        """Whether every panel of every prompt of ``case`` has a rating."""
        return self._complete(case, self._rated_keys(), self.prompts(case))

    def first_unrated_index(self, *, skip_missing: bool = True) -> int | None:
        """Index (in ``cases_in_order``) of the first incomplete case; None when all are done.

        Cases whose image is missing are skipped unless ``skip_missing`` is False.
        """
        rated, prompts = self._rated_keys(), self._prompts_by_case()
        missing = set(self.missing_cases()) if skip_missing else set()
        for index, case in enumerate(self._order):
            if case not in missing and not self._complete(case, rated, prompts[case]):
                return index
        return None

    def progress(self) -> tuple[int, int]:
        """``(complete cases, all cases)``."""
        rated, prompts = self._rated_keys(), self._prompts_by_case()
        done = sum(self._complete(case, rated, prompts[case]) for case in self._order)
        return done, len(self._order)

    # ------------------------------------------------------------- rating
    def rate(
        self,
        case: str,
        panel_label: str,
        score: int,
        *,
        prompt: str | None = None,
        flag: bool = False,
        comment: str = "",
        display: dict[str, Any] | None = None,
        seconds_spent: float | None = None,
    ) -> int:
        """Save the rating of one panel durably; returns its id once it is on disk.

        ``prompt`` may be left out when the case has exactly one. In ``top_class`` mode a
        first rating with ``prompt`` records it as the case's prompt. ``display`` holds the
        opacity, colormap, entropy_radius (and model_id) in use; with a fixed display policy
        it must match the session's settings (or be left out).
        """
        methods = dict(self.panels(case))
        if panel_label not in methods:
            raise SessionError(f"There is no panel '{panel_label}' for this case.")
        prompt = self._prompt_for_rating(case, prompt)
        if flag and not self.config.flag_wrong_region:
            raise SessionError("This session does not use the 'wrong region' flag.")
        if comment and not self.config.comments:
            raise SessionError("This session does not take comments.")
        shown = self._display_for_rating(display)
        return self.store.add_rating(
            reader=self.reader,
            case=case,
            prompt=prompt,
            method=methods[panel_label],
            score=score,
            panel=panel_label,
            flag_wrong_region=bool(flag) if self.config.flag_wrong_region else None,
            comment=comment if self.config.comments else None,
            seconds_spent=seconds_spent,
            **shown,
        )

    def undo_last(self, case: str, prompt: str | None = None) -> str | None:
        """Withdraw the newest rating of ``case`` (of ``prompt`` when given), audited.

        Returns the panel label that is unrated again, or None when nothing was rated.
        """
        self._check_case(case)
        withdrawn = self.store.undo_last(self.reader, case, prompt)
        if withdrawn is None:
            return None
        return {method: label for label, method in self.panels(case)}.get(withdrawn["method"])

    @property
    def read_only(self) -> bool:
        return self.store.read_only

    @property
    def tamper_warning(self) -> str:
        """A sentence when the file failed the tamper checks on open ('' otherwise)."""
        return self.store.tamper_warning

    def _prompt_for_rating(self, case: str, prompt: str | None) -> str:
        known = self.prompts(case)
        if prompt is None:
            if len(known) == 1:
                return known[0]
            if not known:
                raise SessionError("The prompt for this case is not known yet; nothing was saved.")
            raise SessionError("This case has several prompts; say which one is rated.")
        if prompt in known:
            return prompt
        if not known and self.config.prompt_mode == "top_class":
            self.set_prompts(case, [prompt])
            return prompt
        raise SessionError("This prompt is not part of the case; nothing was saved.")

    def _display_for_rating(self, display: dict[str, Any] | None) -> dict[str, Any]:
        display = dict(display or {})
        unknown = set(display) - set(DISPLAY_KEYS)
        if unknown:
            raise TypeError(f"unknown display settings: {sorted(unknown)}")
        if self.config.display_policy == "fixed":
            fixed = self.config.display
            changed = {k for k, v in display.items() if k in fixed and v != fixed[k]}
            if changed:
                raise SessionError(
                    "The display settings are fixed in this session; reset them to rate.",
                    details=f"changed: {sorted(changed)}",
                )
            display = {**display, **fixed}
        if not display.get("model_id") and self.config.model_id:
            display["model_id"] = self.config.model_id
        display.setdefault("variant", DEFAULT_VARIANT)
        display.setdefault("geometry", DEFAULT_GEOMETRY)
        return display

    def _check_case(self, case: str) -> None:
        if case not in self._case_set:
            raise SessionError("This case is not part of the session.", details=repr(case))


def _initial_prompts(config: SessionConfig) -> list[str]:
    if config.prompt_mode == "fixed":
        return [config.fixed_prompt]
    if config.prompt_mode == "criteria":
        return list(config.criteria_prompts)
    return []
