"""The attribution methods' names and display titles, importable without torch (the viewer
shows its window before torch is imported): a view of the method registry
(``explain.methods``), where the method classes live."""

from __future__ import annotations

from medgrad_desktop.explain.methods.registry import (  # noqa: F401 (re-exported names)
    all_methods,
    check_methods,
    default_methods,
    method_title,
    method_titles,
)

METHODS = default_methods()
"""The default methods in display order (Grad-CAM, Grad-ECLIP, MedGrad-ECLIP)."""
METHOD_TITLES = method_titles()
