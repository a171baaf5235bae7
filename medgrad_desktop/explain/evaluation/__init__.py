"""Map quality: deletion/insertion, localisation against ground-truth masks, sanity checks,
reference maps and bootstrap confidence intervals (Qt-free).

Public API::

    from medgrad_desktop.explain.evaluation import deletion_insertion, localisation
"""

from medgrad_desktop.explain.evaluation.datasets import MaskDataset, load_mask_dataset
from medgrad_desktop.explain.evaluation.deletion import (
    BASELINES,
    DeletionInsertion,
    baseline_image,
    deletion_insertion,
)
from medgrad_desktop.explain.evaluation.localisation import (
    auroc,
    energy_pointing_game,
    jaccard_at,
    jaccard_topk,
    localisation,
    pointing_game,
)
from medgrad_desktop.explain.evaluation.reference_maps import REFERENCE_MAPS, reference_map
from medgrad_desktop.explain.evaluation.runner import (
    EvaluationSettings,
    EvaluationStopped,
    evaluate_folder,
)
from medgrad_desktop.explain.evaluation.sanity import cascading_randomisation, map_agreement
from medgrad_desktop.explain.evaluation.statistics import bootstrap_mean, paired_difference

__all__ = [
    "BASELINES",
    "REFERENCE_MAPS",
    "DeletionInsertion",
    "EvaluationSettings",
    "EvaluationStopped",
    "MaskDataset",
    "auroc",
    "baseline_image",
    "bootstrap_mean",
    "cascading_randomisation",
    "deletion_insertion",
    "energy_pointing_game",
    "evaluate_folder",
    "jaccard_at",
    "jaccard_topk",
    "load_mask_dataset",
    "localisation",
    "map_agreement",
    "paired_difference",
    "pointing_game",
    "reference_map",
]
