"""The ``python -m training fit`` command line the training tests share (tiny, one thread)."""

from __future__ import annotations


def fit_args(data, model, run_dir, *extra) -> list[str]:
    """``fit`` on ``data`` from the base ``model`` into ``run_dir``; ``extra`` options last
    (a repeated option overrides an earlier one)."""
    return [
        "fit",
        *("--data", str(data), "--base", str(model)),
        *("--batch-size", "4", "--lr", "1e-3", "--threads", "1"),
        *("--run-dir", str(run_dir)),
        *extra,
    ]
