"""Safe reading of prompt-set YAML: no aliases or anchors (a few hundred bytes of nested
aliases expand to gigabytes), a size limit, and a type check of every field whose message
names the field. Booleans must be YAML booleans (``true``/``false``), so a quoted
``high_risk: 'false'`` is refused instead of being read as true."""

from __future__ import annotations

import logging

import yaml

from medgrad_desktop.errors import PromptSetError

log = logging.getLogger(__name__)

MAX_PROMPT_FILE_BYTES = 1024 * 1024
TOP_LEVEL_KEYS = frozenset({"name", "description", "classes", "criteria"})
ENTRY_KEYS = frozenset({"label", "prompts", "high_risk", "points"})


class _NoAliasLoader(yaml.SafeLoader):
    """``SafeLoader`` that stops at the first anchor (``&a``) or alias (``*a``)."""

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            mark = event.start_mark
            raise PromptSetError(
                "The prompt file uses YAML anchors or aliases (& or *), which are not allowed; "
                "write every prompt out in full.",
                f"line {mark.line + 1}, column {mark.column + 1}",
            )
        return super().compose_node(parent, index)


def parse_prompt_yaml(text: str, source: str):
    """The parsed YAML document of a prompt file (no aliases/anchors, at most 1 MB)."""
    if len(text.encode("utf-8")) > MAX_PROMPT_FILE_BYTES:
        raise PromptSetError(f"The prompt file {source} is too large (over 1 MB).")
    try:
        return yaml.load(text, Loader=_NoAliasLoader)  # a SafeLoader subclass
    except PromptSetError as exc:
        raise PromptSetError(f"{exc.message[:-1]} ({source}).", exc.details) from exc
    except yaml.YAMLError as exc:
        raise PromptSetError(f"The prompt file {source} is not valid YAML.", repr(exc)) from exc


def _wrong(source: str, where: str, field: str, expected: str, value) -> PromptSetError:
    return PromptSetError(
        f"In {source}, {where} the field '{field}' must be {expected}.", f"{field} = {value!r}"
    )


def check_top_level(data, source: str) -> None:
    """Types of ``name``, ``description``, ``classes`` and ``criteria``."""
    if not isinstance(data, dict):
        raise PromptSetError(
            f"{source} is not a prompt set.", f"top level is {type(data).__name__}"
        )
    for field in ("name", "description"):
        if data.get(field) is not None and not isinstance(data[field], str):
            raise _wrong(source, "at the top,", field, "text", data[field])
    for field in ("classes", "criteria"):
        if data.get(field) is not None and not isinstance(data[field], list):
            raise _wrong(source, "at the top,", field, "a list of prompts", data[field])
    unknown = sorted(str(key) for key in set(data) - TOP_LEVEL_KEYS)
    if unknown:
        log.warning("Prompt file %s: ignoring unknown settings %s", source, unknown)


def check_entry(entry, kind: str, position: int, source: str) -> dict:
    """One class/criterion entry as a dict with checked types (a bare string is a label)."""
    where = f"{'class' if kind == 'class' else 'criterion'} {position}:"
    if isinstance(entry, str):
        return {"label": entry}
    if not isinstance(entry, dict):
        raise PromptSetError(
            f"In {source}, {where} each prompt must be a text or have a 'label'.", repr(entry)
        )
    unknown = sorted(str(key) for key in set(entry) - ENTRY_KEYS)
    if unknown:
        raise PromptSetError(
            f"In {source}, {where} the field '{unknown[0]}' is unknown; use label, prompts, "
            "high_risk or points.",
            repr(entry),
        )
    if entry.get("label") is None:
        raise PromptSetError(f"In {source}, {where} the prompt has no label.", repr(entry))
    if not isinstance(entry["label"], str):
        raise _wrong(source, where, "label", "text", entry.get("label"))
    prompts = entry.get("prompts")
    if prompts is not None and not (
        isinstance(prompts, str)
        or (isinstance(prompts, list) and all(isinstance(p, str) for p in prompts))
    ):
        raise _wrong(source, where, "prompts", "a text or a list of texts", prompts)
    if "high_risk" in entry and not isinstance(entry["high_risk"], bool):
        raise _wrong(
            source, where, "high_risk", "true or false (without quotes)", entry["high_risk"]
        )
    points = entry.get("points")
    if points is not None and (isinstance(points, bool) or not isinstance(points, int)):
        raise _wrong(source, where, "points", "a whole number", points)
    return entry
