"""Plots of a training run (matplotlib, Agg backend, PNG files): ``loss.png`` (training loss
per step and validation loss per epoch), ``accuracy.png`` (validation zero-shot accuracy and
macro F1 per epoch) and ``confusion_matrix.png`` (test split)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def _figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_loss(history: dict, path: Path) -> Path:
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6, 4))
    steps = np.array(history["steps"], dtype=float).reshape(-1, 3)
    if len(steps):
        ax.plot(steps[:, 0], steps[:, 1], lw=0.6, alpha=0.5, label="training loss (step)")
        window = max(1, len(steps) // 50)
        smooth = np.convolve(steps[:, 1], np.ones(window) / window, mode="valid")
        ax.plot(steps[window - 1 :, 0], smooth, lw=1.5, label=f"training loss ({window}-step mean)")
    epochs = history["epochs"]
    if epochs:
        ax.plot(
            [e["step"] for e in epochs],
            [e["val_loss"] for e in epochs],
            "o-",
            label="validation loss",
        )
    ax.set_xlabel("step")
    ax.set_ylabel("contrastive loss")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_accuracy(history: dict, path: Path) -> Path:
    plt = _figure()
    fig, ax = plt.subplots(figsize=(6, 4))
    epochs = history["epochs"]
    x = [e["epoch"] for e in epochs]
    ax.plot(x, [e["val_zero_shot_accuracy"] for e in epochs], "o-", label="zero-shot accuracy")
    ax.plot(x, [e["val_macro_f1"] for e in epochs], "s--", label="macro F1")
    ax.set_xlabel("epoch")
    ax.set_ylabel("validation")
    ax.set_ylim(0, 1.02)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_confusion(metrics: dict, path: Path, title: str | None = None) -> Path:
    plt = _figure()
    labels = metrics["confusion_matrix"]["labels"]
    matrix = np.array(metrics["confusion_matrix"]["matrix"])
    fig, ax = plt.subplots(figsize=(1.2 * len(labels) + 2.5, 1.2 * len(labels) + 2))
    ax.imshow(matrix, cmap="Blues")
    for (row, col), value in np.ndenumerate(matrix):
        colour = "white" if value > matrix.max() / 2 else "black"
        ax.text(col, row, str(value), ha="center", va="center", color=colour)
    ax.set_xticks(range(len(labels)), labels, rotation=30, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted (zero-shot)")
    ax.set_ylabel("true")
    ax.set_title(title or f"test accuracy {metrics['zero_shot_accuracy']:.3f}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def write_plots(history: dict, metrics: dict, run_dir: Path) -> list[Path]:
    """All plots of a run into ``run_dir``."""
    run_dir = Path(run_dir)
    return [
        plot_loss(history, run_dir / "loss.png"),
        plot_accuracy(history, run_dir / "accuracy.png"),
        plot_confusion(metrics, run_dir / "confusion_matrix.png"),
    ]
