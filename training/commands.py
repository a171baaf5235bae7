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
    from training.evaluate import compute_metrics, format_table, write_metrics
    from training.run_evaluation import data_samples, run_samples

    if args.run is None and (args.model is None or args.data is None):
        raise DataError("Give --run RUN_DIR, or both --model and --data.")
    if args.run is not None:
        samples, classes, model, template = run_samples(args.run, args.split)
        model = args.model or model
        template = args.prompt_template or template
        where = f"the {args.split} split of run {Path(args.run).name}"
    else:
        samples, classes = data_samples(args.data, args.split, args.seed)
        model, template = args.model, args.prompt_template or "{label}"
        where = f"the {args.split} split of {Path(args.data).name}"
        if args.split != "all":
            print(
                f"note: without --run, new splits are assigned to {Path(args.data).name} (seed "
                f"{args.seed}, 70/15/15 by patient/group); they are not the splits of any "
                "training run. Use --run RUN_DIR to evaluate a run on its own test images."
            )
    bundle = load_model(model, device=None if args.device == "auto" else args.device)
    metrics = compute_metrics(bundle, samples, classes, template, args.batch_size)
    print(f"{bundle.describe()} on {len(samples)} images ({where})")
    print(format_table(metrics))
    out = args.out
    if out is None and args.run is not None:
        out = Path(args.run) / f"evaluation-{args.split}"
    if out is not None:
        about = {"n_images": len(samples), "split": args.split, "model": str(model)}
        if args.run is not None:
            about["run"] = str(args.run)
        print(f"wrote {write_metrics(metrics, out, **about)}")
    return 0


def register_evaluate(subparsers) -> None:
    """``evaluate --run RUN_DIR [--split test]`` or ``evaluate --model SRC --data DIR``."""
    parser = subparsers.add_parser(
        "evaluate",
        help="measure a model on held-out data",
        description="Zero-shot classification, retrieval and calibration metrics of a model. "
        "With --run, exactly the images a training run put in the chosen split "
        "(its splits.csv) are used, with the run's best/ model.",
    )
    parser.add_argument("--run", type=Path, help="a training run folder (uses its splits.csv)")
    parser.add_argument(
        "--model", help="demo, a model folder or a .pth file (default with --run: the run's best/)"
    )
    parser.add_argument("--data", help="manifest CSV or image folder (without --run)")
    parser.add_argument("--split", choices=("test", "val", "train", "all"), default="test")
    parser.add_argument(
        "--out",
        type=Path,
        help="folder for metrics.json (default with --run: RUN_DIR/evaluation-<split>)",
    )
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--device", default="auto")
    parser.add_argument("--seed", type=int, default=0, help="split seed when the data has none")
    parser.add_argument(
        "--prompt-template",
        default=None,
        help="zero-shot class prompt; {label} is the class name (default: the run's, or '{label}')",
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
