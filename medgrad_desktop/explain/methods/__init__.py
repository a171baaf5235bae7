"""Attribution methods, one small class per method over ``base.AttributionMethod``, and the
registry. Every module of this package is imported here, so adding a method is one new file
(a class decorated with ``@register``)."""

from __future__ import annotations

import importlib
import pkgutil

from medgrad_desktop.explain.methods.base import AttributionMethod
from medgrad_desktop.explain.methods.registry import (
    all_methods,
    check_methods,
    default_methods,
    get_method,
    method_title,
    method_titles,
    register,
    unavailable_methods,
)

for _module in pkgutil.iter_modules(__path__):
    if _module.name not in ("base", "registry"):
        importlib.import_module(f"{__name__}.{_module.name}")

__all__ = [
    "AttributionMethod",
    "all_methods",
    "check_methods",
    "default_methods",
    "get_method",
    "method_title",
    "method_titles",
    "register",
    "unavailable_methods",
]
