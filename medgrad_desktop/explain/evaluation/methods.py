"""Which maps can be evaluated: the attribution methods plus the reference maps."""

from __future__ import annotations

from collections.abc import Sequence

from medgrad_desktop.errors import MedGradError
from medgrad_desktop.explain.evaluation.reference_maps import REFERENCE_MAPS


def available_methods() -> tuple[str, ...]:
    """The attribution methods the explain core offers, in canonical order."""
    from medgrad_desktop.explain.methods import all_methods

    return all_methods()


def check_map_names(names: Sequence[str]) -> tuple[str, ...]:
    """The methods among ``names`` (reference maps are always added); unknown names refused."""
    known = available_methods()
    unknown = [n for n in names if n not in known and n not in REFERENCE_MAPS]
    if unknown:
        raise MedGradError(
            f"Unknown map {', '.join(unknown)}; choose from {', '.join(known)} "
            f"(the reference maps {', '.join(REFERENCE_MAPS)} are always included)."
        )
    chosen = tuple(m for m in known if m in names)
    if not chosen:
        raise MedGradError("Choose at least one attribution method to evaluate.")
    return chosen
