"""Reading the resume state of a run (``last/training_state.pt``) and refusing a resume whose
settings would silently change the run."""

from __future__ import annotations

from pathlib import Path

import torch

from medgrad_desktop.errors import DataError
from training.atomic_dir import recover
from training.config import TrainConfig
from training.runs import STATE_FILE


def load_resume_state(run_dir: Path, config: TrainConfig) -> dict:
    """The saved state; ``DataError`` for a damaged file or a changed batch size (the
    learning-rate schedule and the epochs' batches depend on it) unless
    ``allow_batch_size_change``."""
    path = recover(Path(run_dir) / "last") / STATE_FILE
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated or foreign files raise several types
        raise DataError(
            f"The saved training state of {Path(run_dir).name} is damaged, so it cannot be "
            "resumed.",
            repr(exc),
        ) from exc
    saved = state.get("batch_size")
    if saved is not None and saved != config.batch_size and not config.allow_batch_size_change:
        raise DataError(
            f"This run was trained with batch size {saved}; resuming it with {config.batch_size} "
            "would change its schedule. Resume with the same batch size, or add "
            "--allow-batch-size-change true to change it on purpose.",
            f"saved {saved}, asked {config.batch_size}",
        )
    return state
