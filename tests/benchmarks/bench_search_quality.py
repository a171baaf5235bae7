"""Search and triage quality of a model on a synthetic set it never saw (ground truth known).

Writes ``--n`` synthetic images with ``--seed`` (the demo model was trained on seed 1), embeds
them, and reports precision@10 of the text search for each class name (relevant = images of
that class) and for each structure prompt of the PH² set (relevant = images whose structure
mask exists), then the triage metrics (accuracy, macro-F1, ECE) of zero-shot classification.
Run: ``python tests/benchmarks/bench_search_quality.py --seed 777 --n 600 [--model demo]``
(``--data DIR`` reuses a folder written by ``python -m training synth``).
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

STRUCTURE_PROMPTS = {
    "typical_pigment_network": "typical pigment network",
    "atypical_pigment_network": "atypical pigment network",
    "regular_dots_globules": "typical dots/globules",
    "irregular_dots_globules": "atypical dots/globules",
    "irregular_streaks": "streaks",
    "regression_structures": "regression areas",
    "blue_whitish_veil": "blue-whitish veil",
}
"""Structure mask of ``training.synthetic`` → the PH² criterion prompt that names it."""


def read_manifest(data: Path) -> tuple[dict[str, str], dict[str, set[str]]]:
    """Image name → class label, and structure → names of the images that show it."""
    labels: dict[str, str] = {}
    structures: dict[str, set[str]] = {key: set() for key in STRUCTURE_PROMPTS}
    with open(data / "manifest.csv", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            name = Path(row["image"]).name
            labels[name] = row["label"]
            for mask in filter(None, row["masks"].split(";")):
                structure = Path(mask).stem.split("_", 2)[-1]  # synth_00012_<structure>
                if structure in structures:
                    structures[structure].add(name)
    return labels, structures


def precision_at(ranked, relevant: set[str], k: int = 10) -> float:
    return sum(item.name in relevant for item in ranked[:k]) / k


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=777)
    parser.add_argument("--n", type=int, default=600)
    parser.add_argument("--model", default="demo")
    parser.add_argument("--data", type=Path, default=None)
    args = parser.parse_args()

    from medgrad_desktop.browse.embedding_cache import EmbeddingCache
    from medgrad_desktop.browse.folder_embeddings import embed_folder
    from medgrad_desktop.browse.labels import load_labels
    from medgrad_desktop.browse.predictions import predict_classes
    from medgrad_desktop.browse.ranking import rank_by_text
    from medgrad_desktop.browse.triage import triage
    from medgrad_desktop.explain import load_model
    from medgrad_desktop.explain.prompt_sets import (
        DEFAULT_PROMPT_SET,
        bundled_prompt_sets,
        load_prompt_set,
    )
    from training.synthetic import write_dataset

    with tempfile.TemporaryDirectory() as tmp:
        data = args.data or write_dataset(Path(tmp) / "synth", args.n, args.seed)
        labels, structures = read_manifest(Path(data))
        prompt_set = load_prompt_set(bundled_prompt_sets()[DEFAULT_PROMPT_SET])
        bundle = load_model(args.model, device="cpu")
        began = time.perf_counter()
        embeddings = embed_folder(
            bundle, Path(data) / "images", cache=EmbeddingCache(Path(tmp) / "cache.sqlite")
        )
        seconds = time.perf_counter() - began
        print(f"{len(embeddings)} images embedded in {seconds:.1f} s on CPU")
        by_item = {item.label: item for item in prompt_set.items}
        class_p10 = {}
        for item in prompt_set.classes:
            relevant = {name for name, label in labels.items() if label == item.label}
            value = precision_at(rank_by_text(bundle, embeddings, item.label), relevant)
            class_p10[item.label] = value
            print(f"P@10 class  {item.label:28s} {value:.2f} ({len(relevant)} relevant)")
        for key, label in STRUCTURE_PROMPTS.items():
            texts = by_item[label].texts
            as_prompt = precision_at(rank_by_text(bundle, embeddings, list(texts)), structures[key])
            as_words = precision_at(rank_by_text(bundle, embeddings, label), structures[key])
            print(
                f"P@10 prompt {label:28s} {as_prompt:.2f} as the set's prompt {texts}, "
                f"{as_words:.2f} as the words '{label}' ({len(structures[key])} relevant)"
            )
        manifest = Path(data) / "manifest.csv"
        truth = load_labels(manifest, Path(data) / "images", embeddings.names, prompt_set)
        metrics = triage(predict_classes(bundle, embeddings, prompt_set), truth).metrics()
    shown = ", ".join(f"{label} {value:.2f}" for label, value in class_p10.items())
    print(
        f"seed {args.seed}, {metrics['images']} images: precision@10 {shown}; accuracy "
        f"{metrics['accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}, ECE {metrics['ece']:.3f}"
    )


if __name__ == "__main__":
    main()
