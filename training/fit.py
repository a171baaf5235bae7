"""``fit``: one training run from settings to run folder (see ``training.runs``).

After each epoch the model is measured on the validation split (zero-shot accuracy; ties go to
the lower validation loss) and ``best/`` is rewritten when it improved; ``last/`` is rewritten
after each epoch, on SIGINT/SIGTERM and at the end. The final ``metrics.json`` is measured on
the test split with ``best/`` as ``load_model`` opens it.
"""

from __future__ import annotations

import json
import logging
import signal
import time
from pathlib import Path

import torch
from tqdm import tqdm

from medgrad_desktop.errors import MedGradError
from medgrad_desktop.explain import load_model
from medgrad_desktop.explain.bundle import ModelBundle
from medgrad_desktop.explain.loading import choose_device
from training import distributed
from training.atomic_dir import replace_folder
from training.config import TrainConfig
from training.evaluate import (
    class_prompts,
    compute_metrics,
    embed_pairs,
    metrics_from_embeddings,
    write_metrics,
)
from training.events import EventLog
from training.loop import StopRequest, Trainer, contrastive_loss
from training.model_setup import adapter_state, build_model, save_checkpoint
from training.resume import load_resume_state
from training.runs import STATE_FILE, new_run_dir, prepare_data, write_config_snapshot
from training.split_record import SPLITS_FILE, read_splits, write_splits

log = logging.getLogger(__name__)

SIGNAL_NUMBERS = {"SIGINT": 2, "SIGTERM": 15, "SIGBREAK": 21}
"""Numbers of the stop signals (SIGBREAK exists only on Windows, so it is not looked up)."""


def exit_code_for(signal_name: str | None) -> int:
    """The exit code of a run stopped by ``signal_name``: 128 + the signal's number (130 for
    SIGINT, 143 for SIGTERM, 149 for Windows' SIGBREAK), as shells report it."""
    number = SIGNAL_NUMBERS.get(signal_name or "")
    if number is None:
        try:
            number = int(signal.Signals[signal_name])
        except (KeyError, TypeError):
            number = SIGNAL_NUMBERS["SIGTERM"]
    return 128 + number


def training_bundle(setup, device: torch.device) -> ModelBundle:
    """A ``ModelBundle`` over the model being trained (for tokenizing and validation)."""
    return ModelBundle(
        model=setup.clip_model(),
        tokenizer=setup.tokenizer,
        device=device,
        dtype=torch.float32,
        model_id="training",
        image_size=setup.image_size,
        image_mean=setup.image_mean,
        image_std=setup.image_std,
        name="training",
    )


def _device(config: TrainConfig, info_local_rank: int) -> torch.device:
    device = choose_device(None if config.device == "auto" else config.device)
    if device.type == "cuda" and device.index is None and distributed.launched_by_torchrun():
        device = torch.device("cuda", info_local_rank)
    return device


class FitRun:
    """State of one ``fit`` call: the trainer, events, history and checkpoints."""

    def __init__(self, config: TrainConfig, run_dir: Path, info, device, resumed: bool) -> None:
        self.config, self.run_dir, self.info, self.device = config, run_dir, info, device
        state = load_resume_state(run_dir, config) if resumed else None
        recorded = read_splits(run_dir) if resumed and (run_dir / SPLITS_FILE).is_file() else None
        self.data = prepare_data(config, recorded)
        if not resumed and info.is_main:
            write_splits(run_dir, self.data.all_samples(), self.data.hashes)
        weights = run_dir / "last" if resumed and config.method != "lora" else None
        self.setup = build_model(config, weights_from=weights)
        self.setup.model.to(device)
        self.bundle = training_bundle(self.setup, device)
        self.trainer = Trainer(
            config, self.setup, self.data.train, self.data.classes, device, info, self.bundle
        )
        self.events = EventLog(run_dir, enabled=info.is_main)
        self.history: dict = {"steps": [], "epochs": [], "seconds": 0.0}
        self.best_score: tuple[float, float] | None = None
        self.progress = None
        if state is not None:
            self._restore(state)

    def _restore(self, state: dict) -> None:
        params = dict(self.setup.model.named_parameters())
        # fp32 master weights (saved when best/ and last/ hold float16) or the LoRA adapter
        saved = state.get("master_weights") or state["adapter"]
        with torch.no_grad():
            for name, value in saved.items():
                params[name].copy_(value)
        self.trainer.load_state_dict(state["trainer"])
        self.history = state["history"]
        self.best_score = tuple(state["best_score"]) if state["best_score"] else None

    def save(self, kind: str, epoch: int) -> None:
        """Write ``best/`` or ``last/`` (``last/`` with the resume state) on rank 0."""
        if self.info.is_main:

            def write(folder: Path) -> None:
                save_checkpoint(self.setup, folder, self.config.save_dtype)
                if kind == "last":
                    torch.save(self.resume_state(), folder / STATE_FILE)

            folder = replace_folder(self.run_dir / kind, write)
            self.events.write(
                "checkpoint", kind=kind, path=str(folder), step=self.trainer.step, epoch=epoch
            )
        distributed.barrier(self.info)

    def resume_state(self) -> dict:
        """What ``--resume`` needs besides the saved weights."""
        master = None
        if self.config.save_dtype != "float32" and self.config.method != "lora":
            master = {
                n: p.detach().cpu().float().clone() for n, p in self.setup.model.named_parameters()
            }
        return {
            "trainer": self.trainer.state_dict(),
            "history": self.history,
            "best_score": list(self.best_score) if self.best_score else None,
            "adapter": adapter_state(self.setup),
            "master_weights": master,
            "batch_size": self.config.batch_size,
        }

    def on_step(self, step: int, loss: float, lr: float, epoch: int) -> None:
        self.history["steps"].append([step, loss, lr])
        if self.progress is not None:
            self.progress.update(1)
            self.progress.set_postfix(loss=f"{loss:.4f}", lr=f"{lr:.2e}", epoch=epoch)
        if step % self.config.log_every == 0 or step == self.trainer.total_steps:
            self.events.write(
                "step",
                step=step,
                total_steps=self.trainer.total_steps,
                loss=loss,
                lr=lr,
                epoch=epoch,
            )

    def on_epoch_start(self, epoch: int) -> None:
        self.events.write("epoch", epoch=epoch, epochs=self.config.epochs)

    @torch.no_grad()
    def validate(self) -> dict:
        """Validation metrics and loss of the current weights."""
        self.setup.model.eval()
        try:
            samples, classes = self.data.val, self.data.classes
            batch = self.config.batch_size
            image, text, labels = embed_pairs(
                self.bundle, samples, classes, batch, self.trainer.autocast
            )
            prompts = self.bundle.encode_prompts(
                class_prompts(classes, self.config.prompt_template)
            )
            scale = self.bundle.logit_scale
            metrics = metrics_from_embeddings(
                image,
                text,
                labels,
                [s.text for s in samples],
                prompts.cpu().numpy(),
                scale,
                classes,
                batch,
            )
            losses = [
                float(
                    contrastive_loss(
                        torch.from_numpy(image[i : i + batch]),
                        torch.from_numpy(text[i : i + batch]),
                        scale,
                        torch.from_numpy(labels[i : i + batch]),
                    )
                )
                for i in range(0, len(image), batch)
                if len(image[i : i + batch]) > 1
            ]
            metrics["loss"] = sum(losses) / len(losses) if losses else float("nan")
            return metrics
        finally:
            self.setup.model.train()

    def on_epoch_end(self, epoch: int) -> None:
        if self.info.is_main:
            metrics = self.validate()
            steps = [
                s
                for s in self.history["steps"]
                if s[0] > self.trainer.step - self.trainer.steps_per_epoch
            ]
            train_loss = sum(s[1] for s in steps) / max(1, len(steps))
            self.history["epochs"].append(
                {
                    "epoch": epoch,
                    "step": self.trainer.step,
                    "train_loss": train_loss,
                    "val_loss": metrics["loss"],
                    "val_zero_shot_accuracy": metrics["zero_shot_accuracy"],
                    "val_macro_f1": metrics["macro_f1"],
                }
            )
            self.events.write(
                "metrics",
                split="val",
                epoch=epoch,
                step=self.trainer.step,
                loss=metrics["loss"],
                zero_shot_accuracy=metrics["zero_shot_accuracy"],
                macro_f1=metrics["macro_f1"],
            )
            score = (metrics["zero_shot_accuracy"], -metrics["loss"])
            improved = self.best_score is None or score > self.best_score
            if improved:
                self.best_score = score
        improved = distributed.broadcast_object(self.info, improved if self.info.is_main else None)
        if improved:
            self.save("best", epoch)
        self.save("last", epoch)

    def finish(self, seconds: float) -> dict:
        """Test metrics of ``best/`` (as ``load_model`` opens it), plots, history."""
        from training.plots import write_plots

        best = self.run_dir / "best"
        bundle = load_model(best if best.is_dir() else self.run_dir / "last", device=self.device)
        metrics = compute_metrics(
            bundle,
            self.data.test,
            self.data.classes,
            self.config.prompt_template,
            self.config.batch_size,
            self.trainer.autocast,
        )
        split = "test" if self.data.test is not self.data.val else "val"
        path = write_metrics(metrics, self.run_dir, n_images=len(self.data.test), split=split)
        self.events.write(
            "metrics",
            split="test",
            epoch=None,
            step=self.trainer.step,
            loss=None,
            zero_shot_accuracy=metrics["zero_shot_accuracy"],
            macro_f1=metrics["macro_f1"],
        )
        (self.run_dir / "history.json").write_text(json.dumps(self.history, indent=1))
        write_plots(self.history, metrics, self.run_dir)
        self.events.write(
            "finished",
            run_dir=str(self.run_dir),
            steps=self.trainer.step,
            seconds=round(seconds, 1),
            metrics=str(path),
        )
        return metrics

    def started_event(self, resumed: bool) -> None:
        self.events.write(
            "started",
            run_dir=str(self.run_dir),
            total_steps=self.trainer.total_steps,
            epochs=self.config.epochs,
            steps_per_epoch=self.trainer.steps_per_epoch,
            start_step=self.trainer.step,
            resumed=resumed,
            device=str(self.device),
            world_size=self.info.world_size,
            classes=self.data.classes,
            train_size=len(self.data.train),
            val_size=len(self.data.val),
            test_size=len(self.data.test),
        )


def fit(config: TrainConfig, resume: str | Path | None = None, run_dir: str | None = None) -> int:
    """Train; returns 0 when finished, ``exit_code_for(signal)`` (130 SIGINT, 143 SIGTERM,
    149 SIGBREAK) when stopped by a signal (``last/`` saved). Raises ``MedGradError`` for bad
    input (after a ``failed`` event when a run folder exists)."""
    if config.threads > 0:
        torch.set_num_threads(config.threads)
    device_guess = (
        "cuda"
        if config.device.startswith("cuda")
        or (config.device == "auto" and torch.cuda.is_available())
        else "cpu"
    )
    info = distributed.init_distributed(device_guess)
    try:
        device = _device(config, info.local_rank)
        if device.type == "cuda":
            torch.cuda.set_device(device)
        if resume is not None:
            folder = Path(resume)
        else:
            folder = distributed.broadcast_object(
                info, new_run_dir(config, run_dir) if info.is_main else None
            )
            if info.is_main:
                write_config_snapshot(config, folder)
        return _run(config, folder, info, device, resume is not None)
    finally:
        distributed.shutdown(info)


def _run(config, folder: Path, info, device, resumed: bool) -> int:
    started = time.monotonic()
    events = EventLog(folder, enabled=info.is_main)
    try:
        run = FitRun(config, folder, info, device, resumed)
        trainer = run.trainer
        trainer.on_step, trainer.on_epoch_start = run.on_step, run.on_epoch_start
        trainer.on_epoch_end = run.on_epoch_end
        run.started_event(resumed)
        previous = run.history.get("seconds", 0.0)
        with StopRequest() as stop:
            run.progress = tqdm(
                total=trainer.total_steps,
                initial=trainer.step,
                unit="step",
                desc="training",
                disable=not info.is_main,
            )
            with run.progress:
                trainer.run(stop)
            run.history["seconds"] = previous + time.monotonic() - started
            if trainer.stopped_by:
                run.save("last", trainer.step // trainer.steps_per_epoch + 1)
                events.write(
                    "cancelled",
                    step=trainer.step,
                    path=str(folder / "last"),
                    signal=trainer.stopped_by,
                )
                return exit_code_for(trainer.stopped_by)
        if info.is_main:
            metrics = run.finish(run.history["seconds"])
            log.info(
                "Finished %s: test zero-shot accuracy %.4f", folder, metrics["zero_shot_accuracy"]
            )
        distributed.barrier(info)
        return 0
    except MedGradError as exc:
        events.write("failed", message=exc.message, step=None)
        raise
    except Exception as exc:
        events.write(
            "failed", message="Training stopped because of an unexpected error.", step=None
        )
        log.exception("Training failed: %r", exc)
        raise
