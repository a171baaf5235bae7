"""``load_model``: open a CLIP model from a Hugging Face folder, an OpenAI-format state dict
or the bundled demo, safely (``weights_only`` loading, never remote code)."""

from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

import torch
from safetensors import SafetensorError

from medgrad_desktop.errors import ModelLoadError, unexpected_errors_as
from medgrad_desktop.explain.bundle import CLIP_MEAN, CLIP_STD, ModelBundle
from medgrad_desktop.explain.clip_torch import ClipSettings, TorchClip
from medgrad_desktop.explain.model_checks import (
    check_weight_shapes,
    read_preprocessing,
    safetensors_shapes,
)
from medgrad_desktop.explain.open_clip.folder import is_open_clip_folder, open_folder
from medgrad_desktop.explain.open_clip.spec import describe_hf_clip, normalisation_note
from medgrad_desktop.paths import resource_path

log = logging.getLogger(__name__)

CHECKPOINT_SUFFIXES = (".pth", ".pt", ".bin", ".safetensors", ".ckpt")


def choose_device(device: str | torch.device | None = None) -> torch.device:
    """The requested device, else CUDA if available, else MPS, else CPU."""
    if device is not None and str(device) != "auto":
        chosen = torch.device(device)
        if chosen.type == "cuda" and not torch.cuda.is_available():
            raise ModelLoadError("A graphics card (CUDA) was requested but none is available.")
        return chosen
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def weights_hash(paths: list[Path]) -> str:
    """Short content hash of weight files (the ``model_id``)."""
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(paths):
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 22):
                digest.update(chunk)
    return digest.hexdigest()[:12]


def demo_model_dir() -> Path:
    """The bundled demo model folder."""
    return resource_path("demo", "model")


def _load_tokenizer(folder: Path | None, vocab_size: int):
    """The folder's tokenizer (its ``tokenizer.json`` read directly; transformers for a folder
    with only ``vocab.json``), else the bundled OpenAI tokenizer if the vocabulary fits."""
    if folder is not None and (folder / "tokenizer.json").is_file():
        from medgrad_desktop.explain.tokenizer import load_tokenizer_json

        return load_tokenizer_json(folder)
    if folder is not None and (folder / "vocab.json").is_file():
        from transformers import CLIPTokenizerFast

        try:
            return CLIPTokenizerFast.from_pretrained(str(folder))
        except (OSError, ValueError) as exc:
            raise ModelLoadError("The model's tokenizer files are damaged.", repr(exc)) from exc
    from medgrad_desktop.explain.tokenizer import openai_tokenizer

    tokenizer = openai_tokenizer()
    if len(tokenizer) != vocab_size:
        raise ModelLoadError(
            "The model has no tokenizer files and does not use the standard CLIP vocabulary.",
            f"vocab_size {vocab_size} vs OpenAI tokenizer {len(tokenizer)}",
        )
    return tokenizer


def _read_clip_settings(folder: Path) -> ClipSettings:
    config_path = folder / "config.json"
    if not config_path.is_file():
        raise ModelLoadError(
            f"The folder {folder.name} does not contain a CLIP model (config.json is missing).",
            str(folder),
        )
    try:
        raw = json.loads(config_path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            f"The model settings in {folder.name} are not those of a CLIP model.", repr(exc)
        ) from exc
    if not isinstance(raw, dict):
        raise ModelLoadError(
            f"The model settings in {folder.name} are not those of a CLIP model.", "not a dict"
        )
    if raw.get("model_type", "") != "clip":
        raise ModelLoadError(
            f"The folder {folder.name} holds a '{raw.get('model_type')}' model, not a CLIP model."
        )
    return ClipSettings.from_json(raw, folder.name)


def _load_hf_folder(folder: Path):
    """A Hugging Face CLIP folder as a ``TorchClip`` (no transformers import): settings and
    weight shapes checked first, then the weights (safetensors, else ``weights_only`` pickles)."""
    from medgrad_desktop.explain.openai_format import read_checkpoint_file

    config = _read_clip_settings(folder)
    safetensors = sorted(folder.glob("model*.safetensors"))
    pickled = sorted(folder.glob("pytorch_model*.bin"))
    read_preprocessing(folder)  # refuse bad preprocessing settings before building anything
    weight_files = safetensors or pickled
    if not weight_files:
        raise ModelLoadError(
            f"The folder {folder.name} has model settings but no weights file.", str(folder)
        )
    try:
        if safetensors:
            check_weight_shapes(config, safetensors_shapes(safetensors), folder.name)
        state = {}
        for path in weight_files:
            state.update(read_checkpoint_file(path))
        if not safetensors:
            check_weight_shapes(config, {k: tuple(v.shape) for k, v in state.items()}, folder.name)
        try:
            model = TorchClip.from_state_dict(config, state)
        except ValueError as exc:
            raise ModelLoadError(
                f"The weights in {folder.name} do not match its CLIP settings.", str(exc)
            ) from exc
    except ModelLoadError:
        raise
    except (OSError, ValueError, RuntimeError, KeyError, SafetensorError) as exc:
        raise ModelLoadError(
            f"The model weights in {folder.name} are damaged or incomplete.", repr(exc)
        ) from exc
    return model, weight_files, folder


def _load_state_dict_file(path: Path):
    from medgrad_desktop.explain.openai_format import (
        convert_openai_state_dict,
        read_checkpoint_file,
    )

    return convert_openai_state_dict(read_checkpoint_file(path)), [path], None


def model_source_for(chosen: Path) -> Path:
    """What to open for a file picked in a file dialog: its folder when the file belongs to a
    Hugging Face or open_clip model folder, else the file itself (a ``.pth`` state dict)."""
    chosen = Path(chosen)
    is_checkpoint = chosen.suffix.lower() in (".pth", ".pt", ".ckpt")
    in_folder = (chosen.parent / "config.json").is_file() or is_open_clip_folder(chosen.parent)
    return chosen.parent if in_folder and not is_checkpoint else chosen


def load_model(
    source: str | Path = "demo", device: str | torch.device | None = None
) -> ModelBundle:
    """Open a CLIP model for explanation.

    ``source``: ``"demo"``, a Hugging Face folder (as ``CLIPModel.save_pretrained`` writes) or an
    OpenAI-format state dict file (``.pth``/``.pt``, as the MedGrad E-CLIP notebook saves).
    Raises ``ModelLoadError`` with a plain message when the source cannot be used — also for
    unexpected failures, which are logged in full under a reference the message quotes.
    """
    with unexpected_errors_as(ModelLoadError, f"The model {Path(str(source)).name}"):
        return _load_model(source, device)


def _load_model(source: str | Path, device: str | torch.device | None) -> ModelBundle:
    name = "demo model" if str(source) == "demo" else Path(str(source)).name
    path = demo_model_dir() if str(source) == "demo" else Path(source).expanduser()
    if not path.exists():
        raise ModelLoadError(f"The model {name} could not be found.", str(path))
    if path.is_dir() and is_open_clip_folder(path):
        return _load_open_clip_folder(path, name, choose_device(device))
    if path.is_dir():
        model, weight_files, folder = _load_hf_folder(path)
    elif path.suffix.lower() in CHECKPOINT_SUFFIXES:
        model, weight_files, folder = _load_state_dict_file(path)
    else:
        raise ModelLoadError(
            f"{path.name} is not a model file; choose a model folder or a .pth checkpoint.",
            str(path),
        )
    tokenizer = _load_tokenizer(folder, int(model.config.text_config.vocab_size))
    mean, std = read_preprocessing(folder) if folder is not None else (CLIP_MEAN, CLIP_STD)
    target = choose_device(device)
    model = model.float().to(target).eval()
    bundle = ModelBundle(
        model=model,
        tokenizer=tokenizer,
        device=target,
        dtype=torch.float32,
        model_id=weights_hash(weight_files),
        image_size=int(model.config.vision_config.image_size),
        image_mean=tuple(float(x) for x in mean),
        image_std=tuple(float(x) for x in std),
        source=str(path),
        name=name,
        description=describe_hf_clip(model.config, mean, std),
    )
    log.info("Loaded %s from %s (%s)", name, path, bundle.model_id)
    return bundle


def _load_open_clip_folder(folder: Path, name: str, target: torch.device) -> ModelBundle:
    """An open_clip hub folder (BiomedCLIP, DermLIP, …) as a ``ModelBundle``, offline."""
    opened = open_folder(folder)
    spec = opened.spec
    bundle = ModelBundle(
        model=opened.model.to(target),
        tokenizer=opened.tokenizer,
        device=target,
        dtype=torch.float32,
        model_id=weights_hash([opened.weight_file]),
        image_size=spec.vision.image_size,
        image_mean=spec.image_mean,
        image_std=spec.image_std,
        source=str(folder),
        name=name,
        description=spec.describe() + normalisation_note(spec.image_mean, spec.image_std),
    )
    log.info("Loaded %s from %s (%s): %s", name, folder, bundle.model_id, bundle.description)
    return bundle


def save_model_folder(
    model,
    tokenizer,
    folder: str | Path,
    image_mean=CLIP_MEAN,
    image_std=CLIP_STD,
    max_shard_size: str = "15MB",
) -> Path:
    """Write a Hugging Face folder that ``load_model`` opens: config, safetensors weights,
    tokenizer files and ``preprocessor_config.json``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(str(folder), safe_serialization=True, max_shard_size=max_shard_size)
    tokenizer.save_pretrained(str(folder))
    size = int(model.config.vision_config.image_size)
    preprocessor = {
        "image_processor_type": "CLIPImageProcessor",
        "do_resize": True,
        "size": {"height": size, "width": size},
        "do_center_crop": False,
        "resample": 3,
        "do_normalize": True,
        "image_mean": list(image_mean),
        "image_std": list(image_std),
    }
    (folder / "preprocessor_config.json").write_text(json.dumps(preprocessor, indent=2))
    return folder
