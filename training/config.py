"""Training settings: one dataclass, read from YAML, overridden by command-line flags.

Every field of :class:`TrainConfig` is a YAML key and a flag (``batch_size`` ↔
``--batch-size``); flags given on the command line win over the file. ``base: scratch`` builds a
new CLIP from the ``scratch_*`` architecture fields and the tokenizer folder ``tokenizer``
(used for the demo model); any other ``base`` is a ``load_model`` source (``demo``, a Hugging
Face folder or an OpenAI-format ``.pth``).
"""

from __future__ import annotations

import argparse
import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from medgrad_desktop.errors import DataError

METHODS = ("full", "frozen", "lora")
PRECISIONS = ("auto", "fp32", "bf16")


@dataclass
class TrainConfig:
    """All settings of one training run (see the module docstring)."""

    data: str | None = None  # manifest CSV, folder with manifest.csv, or seed-format folder
    descriptions: str | None = None  # seed format: the descriptions CSV, if not found alone
    base: str = "scratch"
    method: str = "full"  # full | frozen | lora
    epochs: int = 10
    batch_size: int = 32
    lr: float = 1e-4
    weight_decay: float = 0.1
    warmup_fraction: float = 0.05
    grad_clip: float = 1.0
    init_temperature: float = 0.07  # only for base: scratch; a base model keeps its own
    label_aware: bool = True  # same-class pairs in a batch are positives, not negatives
    balanced_sampling: bool = True
    class_name_prob: float = 0.0  # chance a training caption is replaced by the class prompt
    prompt_template: str = "{label}"  # zero-shot class prompt; {label} is the class name
    split_fractions: list[float] = field(default_factory=lambda: [0.7, 0.15, 0.15])
    seed: int = 0
    device: str = "auto"  # auto | cpu | cuda | cuda:N | mps
    precision: str = "auto"  # auto (bf16 autocast on CUDA, else fp32) | fp32 | bf16
    torch_compile: str = "auto"  # auto (torch.compile on CUDA) | on | off
    threads: int = 0  # torch CPU threads; 0 keeps torch's default
    num_workers: int = 0
    max_steps: int = 0  # stop after this many optimiser steps (0: run all epochs)
    log_every: int = 1  # write a step event every N steps
    out: str = "runs"
    name: str = "clip"
    resume: str | None = None
    allow_batch_size_change: bool = False  # resume with another batch size on purpose
    save_dtype: str = "float32"  # float32 | float16 (weights in best/ and last/)
    # method "frozen": how many last transformer layers of each tower stay trainable
    trainable_layers: int = 2
    # method "lora"
    lora_r: int = 8
    lora_alpha: int = 16
    lora_dropout: float = 0.0
    # layer names inside each block; empty: the family's (timm ViT qkv, proj, fc1, fc2; BERT
    # query, key, value, dense; open_clip ViT out_proj, c_fc, c_proj; HF CLIP q_proj, v_proj)
    lora_targets: list[str] = field(default_factory=list)
    lora_towers: list[str] = field(default_factory=lambda: ["image", "text"])
    # base "scratch": architecture of a new CLIP
    tokenizer: str | None = None  # tokenizer folder; default: the bundled OpenAI tokenizer
    image_size: int = 224
    patch_size: int = 16
    vision_width: int = 128
    vision_layers: int = 4
    vision_heads: int = 2
    text_width: int = 128
    text_layers: int = 4
    text_heads: int = 2
    context_length: int = 77
    embed_dim: int = 128

    def validate(self) -> TrainConfig:
        """Raise ``DataError`` with a plain sentence for a setting that cannot work."""
        if self.method not in METHODS:
            raise DataError(
                f"The training method '{self.method}' is unknown; use full, frozen or lora."
            )
        if self.precision not in PRECISIONS:
            raise DataError(f"The precision '{self.precision}' is unknown; use auto, fp32 or bf16.")
        if self.torch_compile not in ("auto", "on", "off"):
            raise DataError("The torch-compile setting must be auto, on or off.")
        if self.save_dtype not in ("float32", "float16"):
            raise DataError("The saved weight type must be float32 or float16.")
        positive = {"epochs": self.epochs, "batch size": self.batch_size, "learning rate": self.lr}
        for label, value in positive.items():
            if value <= 0:
                raise DataError(f"The {label} must be greater than zero.")
        if self.batch_size < 2:
            raise DataError("The batch size must be at least 2 for contrastive training.")
        if len(self.split_fractions) != 3 or min(self.split_fractions) < 0:
            raise DataError("The split fractions must be three numbers (train, val, test).")
        if "{label}" not in self.prompt_template:
            raise DataError("The prompt template must contain {label}.")
        return self

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _field_types() -> dict[str, str]:
    return {f.name: str(f.type) for f in dataclasses.fields(TrainConfig)}


def load_yaml_config(path: str | Path) -> dict[str, Any]:
    """The settings in a YAML file as a dict; unknown keys raise ``DataError``."""
    import yaml

    path = Path(path)
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except FileNotFoundError as exc:
        raise DataError(f"The settings file {path.name} does not exist.", str(path)) from exc
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DataError(f"The settings file {path.name} cannot be read.", repr(exc)) from exc
    if not isinstance(loaded, dict):
        raise DataError(f"The settings file {path.name} must contain 'name: value' lines.")
    unknown = sorted(set(loaded) - set(_field_types()))
    if unknown:
        raise DataError(
            f"The settings file {path.name} has unknown settings: {', '.join(unknown)}.",
            str(path),
        )
    return loaded


def _flag_type(type_name: str):
    if "bool" in type_name:
        return lambda text: str(text).lower() in ("1", "true", "yes", "on")
    if "list[float]" in type_name:
        return lambda text: [float(x) for x in str(text).split(",")]
    if "list[str]" in type_name:
        return lambda text: [x.strip() for x in str(text).split(",") if x.strip()]
    if "int" in type_name and "str" not in type_name:
        return int
    if "float" in type_name:
        return float
    return str


def add_config_flags(parser: argparse.ArgumentParser) -> None:
    """``--config`` plus one flag per ``TrainConfig`` field (default None: not given)."""
    parser.add_argument("--config", type=Path, help="YAML settings file; flags override it")
    for name, type_name in _field_types().items():
        flag = "--" + name.replace("_", "-")
        parser.add_argument(
            flag,
            dest=name,
            type=_flag_type(type_name),
            default=None,
            metavar=name.upper(),
            help=f"setting '{name}'",
        )


def config_from_args(args: argparse.Namespace, base: dict[str, Any] | None = None) -> TrainConfig:
    """TrainConfig from ``base`` (e.g. a resumed run's snapshot), the YAML file, then flags."""
    values: dict[str, Any] = dict(base or {})
    if getattr(args, "config", None) is not None:
        values.update(load_yaml_config(args.config))
    for name in _field_types():
        given = getattr(args, name, None)
        if given is not None:
            values[name] = given
    try:
        config = TrainConfig(**values)
    except TypeError as exc:
        raise DataError("The training settings are not valid.", repr(exc)) from exc
    return config.validate()
