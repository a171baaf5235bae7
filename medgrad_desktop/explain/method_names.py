"""The attribution methods' names and display titles, importable without torch (the viewer
shows its window before torch is imported)."""

from collections.abc import Sequence

METHODS = ("gradcam", "gradeclip", "medgrad")
METHOD_TITLES = {"gradcam": "Grad-CAM", "gradeclip": "Grad-ECLIP", "medgrad": "MedGrad-ECLIP"}


def method_title(method: str) -> str:
    """The display title of ``method`` (its name when it has no title)."""
    return METHOD_TITLES.get(method, method)


def check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    """Validate method names (a subset of ``METHODS``), keeping the canonical order."""
    unknown = [m for m in methods if m not in METHODS]
    if unknown or not methods:
        raise ValueError(f"Unknown or no methods {list(methods)}; choose from {METHODS}.")
    return tuple(m for m in METHODS if m in methods)
