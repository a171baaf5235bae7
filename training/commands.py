"""The ``fit``, ``evaluate`` and ``demo-check`` sub-commands of ``python -m training``."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from training.config import add_config_flags, config_from_args

log = logging.getLogger(__name__)


def _run_fit(args: argparse.Namespace) -> int:
    from training.fit import fit
    from training.runs import read_run_config

    config = config_from_args(args)
    if config.resume:  # continue with the run's own settings; flags given now still win
        config = config_from_args(args, base=read_run_config(config.resume))
        config.resume = str(args.resume or config.resume)
    return fit(config, resume=config.resume, run_dir=args.run_dir)


def register_fit(subparsers) -> None:
    """``fit --config cfg.yaml [--data DIR] [--base SRC] ... [--resume RUN]``."""
    parser = subparsers.add_parser(
        "fit",
        help="fine-tune (or train from scratch) a CLIP model",
        description="Train CLIP on image–text pairs. Every setting of the YAML file is also a "
        "flag (e.g. --batch-size 64); flags win. Output: <out>/<time>-<name>/.",
    )
    add_config_flags(parser)
    parser.add_argument(
        "--run-dir", help="exact run folder to create instead of <out>/<time>-<name>"
    )
    parser.set_defaults(func=_run_fit)


def _run_evaluate(args: argparse.Namespace) -> int:
    from medgrad_desktop.errors import DataError
    from medgrad_desktop.explain import load_model
    from training.data import load_samples
    from training.evaluate import compute_metrics, format_table, select_split, write_metrics

    report = load_samples(args.data)
    for path, reason in report.skipped:
        print(f"skipped {path}: {reason}")
    classes = sorted({s.label for s in report.samples})
    if len(classes) < 2:
        raise DataError("The data has fewer than two classes; zero-shot accuracy needs two.")
    samples = select_split(report.samples, args.split, seed=args.seed)
    bundle = load_model(args.model, device=None if args.device == "auto" else args.device)
    metrics = compute_metrics(bundle, samples, classes, args.prompt_template, args.batch_size)
    print(f"{bundle.describe()} on {len(samples)} images ({args.split} split)")
    print(format_table(metrics))
    if args.out is not None:
        print(f"wrote {write_metrics(metrics, args.out)}")
    return 0


def register_evaluate(subparsers) -> None:
    """``evaluate --model SRC --data DIR [--split test|all] [--out DIR]``."""
    parser = subparsers.add_parser(
        "evaluate",
        help="measure a model on held-out data",
        description="Zero-shot classification, retrieval and calibration metrics of a model.",
    )
    parser.add_argument("--model", required=True, help="demo, a model folder or a .pth file")
    parser.add_argument("--data", required=True, help="manifest CSV or image folder")
    parser.add_argument("--split", choices=("test", "val", "train", "all"), default="test")
    parser.add_argument("--out", type=Path, help="folder for metrics.json")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0, help="split seed when the data has none")
    parser.add_argument(
        "--prompt-template",
        default="{label}",
        help="zero-shot class prompt; {label} is the class name",
    )
    parser.set_defaults(func=_run_evaluate)


def _run_demo_check(args: argparse.Namespace) -> int:
    from training.demo_report import run_demo_check

    run_demo_check(args.model, args.n, args.seed, args.data, args.device)
    return 0


def register_demo_check(subparsers) -> None:
    """``demo-check [--model demo] [--n 300] [--seed 12345]``."""
    parser = subparsers.add_parser(
        "demo-check",
        help="zero-shot accuracy and pointing game of a model on unseen synthetic data",
        description="Generate synthetic dermoscopy with an unseen seed, then report zero-shot "
        "accuracy and how often each map's maximum falls on a structure mask.",
    )
    parser.add_argument("--model", default="demo")
    parser.add_argument("--n", type=int, default=300, help="number of synthetic images")
    parser.add_argument("--seed", type=int, default=12345)
    parser.add_argument("--data", type=Path, help="use/keep the synthetic set in this folder")
    parser.add_argument("--device", default="auto")
    parser.set_defaults(func=_run_demo_check)
