"""The method registry: the one list of attribution methods that the engine, the CLI, the
exports and the rating sessions read."""

from __future__ import annotations

from collections.abc import Sequence

from medgrad_desktop.explain.methods.base import NEEDS, AttributionMethod

_REGISTRY: dict[str, AttributionMethod] = {}


def register(cls: type[AttributionMethod]) -> type[AttributionMethod]:
    """Class decorator: add one instance of ``cls`` under ``cls.name``."""
    unknown = set(cls.needs) - NEEDS
    if unknown:
        raise ValueError(f"{cls.__name__} needs unknown inputs {sorted(unknown)}.")
    _REGISTRY[cls.name] = cls()
    return cls


def _ordered() -> list[AttributionMethod]:
    from medgrad_desktop.explain import methods  # noqa: F401  (imports every method module)

    return sorted(_REGISTRY.values(), key=lambda m: (m.order, m.name))


def all_methods() -> tuple[str, ...]:
    """Every registered method name, in display order."""
    return tuple(m.name for m in _ordered())


def default_methods() -> tuple[str, ...]:
    """The methods shown unless others are chosen (Grad-CAM, Grad-ECLIP, MedGrad-ECLIP)."""
    return tuple(m.name for m in _ordered() if m.default)


def get_method(name: str) -> AttributionMethod:
    _ordered()
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"Unknown method {name!r}; choose from {all_methods()}.") from None


def method_title(name: str) -> str:
    """The name a user reads ("MedGrad-ECLIP"); an unknown name as it is."""
    _ordered()
    method = _REGISTRY.get(name)
    return method.title if method is not None else name


def method_titles() -> dict[str, str]:
    return {m.name: m.title for m in _ordered()}


def unavailable_methods(bundle) -> dict[str, str]:
    """``{method: plain reason}`` for every method that cannot explain the loaded model
    ``bundle`` (e.g. LeGrad on an open_clip tower); run where the model lives."""
    refusals = {m.name: m.unavailable_reason(bundle) for m in _ordered()}
    return {name: reason for name, reason in refusals.items() if reason}


def check_methods(methods: Sequence[str]) -> tuple[str, ...]:
    """Validate method names, keeping the registry's order; raises ``ValueError``."""
    names = all_methods()
    unknown = [m for m in methods if m not in names]
    if unknown or not methods:
        raise ValueError(f"Unknown or no methods {list(methods)}; choose from {names}.")
    return tuple(m for m in names if m in methods)
