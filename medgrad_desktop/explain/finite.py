"""Refuse non-finite model outputs (NaN or infinity) with a plain ``ComputeError``.

A damaged model, or preprocessing settings such as ``image_std: [0, 0, 0]``, make every
number NaN; showing such numbers as probabilities or maps would mislead (and NaN widths
crash painting), so they stop at the model's edge.
"""

from __future__ import annotations

import numpy as np

from medgrad_desktop.errors import ComputeError

NAN_MESSAGE = (
    "This model produced invalid numbers (NaN) for this image; it may be damaged or its "
    "preprocessing settings are wrong."
)


def _all_finite(value) -> bool:
    if hasattr(value, "detach"):  # a torch tensor: check on its device, no copy
        import torch

        return bool(torch.isfinite(value.detach()).all())
    return bool(np.isfinite(np.asarray(value, dtype=np.float64)).all())


def require_finite(what: str, *values) -> None:
    """Raise ``ComputeError`` (``NAN_MESSAGE``) unless every value (arrays or tensors) is
    finite; ``what`` names the output in the log details."""
    for value in values:
        if not _all_finite(value):
            raise ComputeError(NAN_MESSAGE, f"non-finite {what}")
