"""Qt-free science: model loading, the three attribution maps and local entropy.

Public API::

    from medgrad_desktop.explain import load_model, explain, explain_many, local_entropy
"""

from medgrad_desktop.explain.attribution import (
    METHOD_TITLES,
    METHODS,
    Evidence,
    ExplainResult,
    compute_evidence,
    explain,
    explain_many,
    render_maps,
)
from medgrad_desktop.explain.bundle import ModelBundle
from medgrad_desktop.explain.entropy import entropy_weight, local_entropy
from medgrad_desktop.explain.evidence import pixel_evidence
from medgrad_desktop.explain.geometry import GEOMETRIES
from medgrad_desktop.explain.images import load_image
from medgrad_desktop.explain.loading import load_model, save_model_folder
from medgrad_desktop.explain.variants import VARIANTS

__all__ = [
    "GEOMETRIES",
    "METHODS",
    "METHOD_TITLES",
    "VARIANTS",
    "Evidence",
    "ExplainResult",
    "ModelBundle",
    "compute_evidence",
    "entropy_weight",
    "explain",
    "explain_many",
    "load_image",
    "load_model",
    "local_entropy",
    "pixel_evidence",
    "render_maps",
    "save_model_folder",
]
