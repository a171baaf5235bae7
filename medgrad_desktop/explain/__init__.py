"""Qt-free science: model loading, the three attribution maps and local entropy.

Public API::

    from medgrad_desktop.explain import load_model, explain, local_entropy
"""

from medgrad_desktop.explain.attribution import (
    METHOD_TITLES,
    METHODS,
    Evidence,
    ExplainResult,
    compute_evidence,
    explain,
    render_maps,
)
from medgrad_desktop.explain.bundle import ModelBundle
from medgrad_desktop.explain.entropy import entropy_weight, local_entropy
from medgrad_desktop.explain.images import load_image
from medgrad_desktop.explain.loading import load_model, save_model_folder

__all__ = [
    "METHODS",
    "METHOD_TITLES",
    "Evidence",
    "ExplainResult",
    "ModelBundle",
    "compute_evidence",
    "entropy_weight",
    "explain",
    "load_image",
    "load_model",
    "local_entropy",
    "render_maps",
    "save_model_folder",
]
