"""The New run dialog's time estimate against a real run on this computer.

Writes the sample data the dialog makes ("Make sample data…": 150 synthetic cases at 224 px),
estimates a run as the dialog does (``training.time_estimate.measure_apart``: count and time a
few real steps in a new process, then scale), then runs that training as the app's job does
(``python -m training fit`` in a new process, so start-up and imports count) and times it.

    python tests/benchmarks/bench_time_estimate.py [--base demo] [--epochs 3] [--batch 16]
        [--method full] [--threads 1]

Last line: ``time estimate: E s, actual run: A s (estimate/actual R)``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from medgrad_desktop.qt.training.sample_data import SAMPLE_CASES, SAMPLE_SEED, SAMPLE_SIZE  # noqa: E402
from training.synthetic import write_dataset  # noqa: E402
from training.time_estimate import estimate_seconds, measure_apart  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="demo")
    parser.add_argument("--method", default="full")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-estimate-") as tmp:
        data = write_dataset(Path(tmp) / "data", SAMPLE_CASES, SAMPLE_SEED, SAMPLE_SIZE)
        settings = {
            "data": str(data / "images"),
            "descriptions": str(data / "descriptions.csv"),
            "base": args.base,
            "method": args.method,
            "epochs": args.epochs,
            "batch_size": args.batch,
            "device": "cpu",
            "threads": args.threads,
        }
        started = time.perf_counter()
        counts, timing = measure_apart(settings)
        measuring = time.perf_counter() - started
        estimate = estimate_seconds(timing, counts, args.epochs, args.batch)
        print(f"{timing}\n{counts}; measuring took {measuring:.1f} s", flush=True)
        command = [
            sys.executable, "-m", "training", "fit",
            "--data", settings["data"], "--descriptions", settings["descriptions"],
            "--base", args.base, "--method", args.method, "--epochs", str(args.epochs),
            "--batch-size", str(args.batch), "--device", "cpu",
            "--threads", str(args.threads), "--out", str(Path(tmp) / "runs"),
        ]  # fmt: skip
        environment = {**os.environ, "PYTHONPATH": str(ROOT)}
        started = time.perf_counter()
        subprocess.run(command, check=True, env=environment, capture_output=True)
        actual = time.perf_counter() - started
    print(
        f"time estimate: {estimate:.0f} s, actual run: {actual:.0f} s "
        f"(estimate/actual {estimate / actual:.2f})"
    )


if __name__ == "__main__":
    main()
