"""Qt-free science: model loading, the three attribution maps and local entropy.

Public API::

    from medgrad_desktop.explain import load_model, explain, explain_many, local_entropy

Names are imported on first use (PEP 562), so importing a light submodule such as
``medgrad_desktop.explain.images`` does not import torch.
"""

from importlib import import_module

_EXPORTS = {
    "METHODS": "method_names",
    "METHOD_TITLES": "method_names",
    "GEOMETRIES": "geometry",
    "VARIANTS": "provenance",
    "Evidence": "evidence",
    "ExplainResult": "attribution",
    "compute_evidence": "attribution",
    "explain": "attribution",
    "explain_many": "attribution",
    "pixel_evidence": "batch_evidence",
    "render_maps": "attribution",
    "ModelBundle": "bundle",
    "entropy_weight": "entropy",
    "local_entropy": "entropy",
    "load_image": "images",
    "load_model": "loading",
    "save_model_folder": "loading",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
