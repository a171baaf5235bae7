"""open_clip hub folders as a user downloads them, opened fully offline, and written back in
the same layout (config, weights file format, tokenizer files) after fine-tuning.

A folder holds ``open_clip_config.json`` (``model_cfg`` + ``preprocess_cfg``), the weights in
``open_clip_model.safetensors`` or ``open_clip_pytorch_model.bin`` (read ``weights_only``), and
tokenizer files: BERT ``vocab.txt``/``tokenizer.json`` for BiomedCLIP-style models, the CLIP
BPE files (or none: the bundled OpenAI tokenizer) otherwise.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from medgrad_desktop.errors import ModelLoadError
from medgrad_desktop.explain.open_clip.infer import infer_open_clip_spec
from medgrad_desktop.explain.open_clip.licence import no_derivatives_licence
from medgrad_desktop.explain.open_clip.model import (
    OpenClipModel,
    build_on_meta,
    check_state_dict,
    materialise_buffers,
)
from medgrad_desktop.explain.open_clip.spec import BERT, OpenClipSpec

log = logging.getLogger(__name__)

CONFIG_FILE = "open_clip_config.json"
SAFETENSORS_FILE = "open_clip_model.safetensors"
PICKLE_FILE = "open_clip_pytorch_model.bin"
BERT_TOKENIZER_FILES = ("vocab.txt", "tokenizer.json")
CLIP_TOKENIZER_FILES = ("tokenizer.json", "vocab.json")
# Files copied unchanged into a fine-tuned copy (the weights are written anew).
_KEPT_SUFFIXES = (".json", ".txt", ".md", ".model")
_KEPT_NAMES = ("LICENSE", "LICENCE", "merges.txt")


@dataclass
class OpenClipFolder:
    """An opened folder: the model (fp32, CPU, eval), tokenizer, spec and provenance."""

    model: OpenClipModel
    tokenizer: Any
    spec: OpenClipSpec
    weight_file: Path
    folder: Path
    no_derivatives: str | None

    def describe(self) -> str:
        return self.spec.describe()


def is_open_clip_folder(folder: Path) -> bool:
    return any((folder / name).is_file() for name in (CONFIG_FILE, SAFETENSORS_FILE, PICKLE_FILE))


def read_config(folder: Path) -> tuple[dict, dict]:
    """(``model_cfg``, ``preprocess_cfg``) of ``open_clip_config.json``."""
    path = folder / CONFIG_FILE
    if not path.is_file():
        raise ModelLoadError(
            f"The folder {folder.name} has open_clip weights but no {CONFIG_FILE}.", str(folder)
        )
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ModelLoadError(f"The file {CONFIG_FILE} is damaged.", f"{path}: {exc}") from exc
    model_cfg = config.get("model_cfg", config) if isinstance(config, dict) else None
    preprocess_cfg = config.get("preprocess_cfg", {}) if isinstance(config, dict) else None
    if not isinstance(model_cfg, dict) or not isinstance(preprocess_cfg, dict):
        raise ModelLoadError(
            f"The file {CONFIG_FILE} does not describe an open_clip model.", f"{path}: {config!r}"
        )
    return model_cfg, preprocess_cfg


def weight_file(folder: Path) -> Path:
    """The weights: safetensors preferred, else the pickle file (read ``weights_only``)."""
    for name in (SAFETENSORS_FILE, PICKLE_FILE):
        if (folder / name).is_file():
            return folder / name
    found = sorted(p.name for p in folder.iterdir() if p.is_file())[:8]
    raise ModelLoadError(
        f"The folder {folder.name} has no open_clip weights ({SAFETENSORS_FILE} or {PICKLE_FILE}).",
        f"files: {found}",
    )


def _problem_message(missing: list[str], unexpected: list[str], wrong: list[str]) -> str:
    if unexpected:
        return f"contain the part '{unexpected[0]}', which this kind of model does not have"
    if wrong:
        return f"hold the part {wrong[0]} in the wrong size"
    return f"lack the part '{missing[0]}'"


def build_model(state: dict[str, torch.Tensor], spec: OpenClipSpec, name: str) -> OpenClipModel:
    """A float32 ``OpenClipModel`` in eval mode holding ``state`` (strictly checked)."""
    model = build_on_meta(spec)
    missing, unexpected, wrong = check_state_dict(model, state)
    if missing or unexpected or wrong:
        raise ModelLoadError(
            f"The model in {name} cannot be opened: its weights "
            f"{_problem_message(missing, unexpected, wrong)}.",
            f"missing {missing[:10]}; unexpected {unexpected[:10]}; wrong shapes {wrong[:10]}",
        )
    model.load_open_clip_state_dict({k: v.float() for k, v in state.items()})
    materialise_buffers(model)
    return model.float().eval()


def load_tokenizer(folder: Path, spec: OpenClipSpec):
    """BERT tokenizer for a BERT text tower; CLIP BPE otherwise (the folder's or bundled; a
    ``tokenizer.json`` or none is read without transformers)."""
    from medgrad_desktop.explain.tokenizer import load_tokenizer_json, openai_tokenizer

    loader = None
    if spec.text.kind == BERT:
        if not any((folder / name).is_file() for name in BERT_TOKENIZER_FILES):
            raise ModelLoadError(
                f"The folder {folder.name} has a BERT text encoder but no tokenizer files "
                "(vocab.txt or tokenizer.json).",
                str(folder),
            )
        from transformers import BertTokenizerFast as loader
    elif (folder / "tokenizer.json").is_file():
        tokenizer = load_tokenizer_json(folder)
    elif any((folder / name).is_file() for name in CLIP_TOKENIZER_FILES):
        from transformers import CLIPTokenizerFast as loader
    else:
        tokenizer = openai_tokenizer()
    if loader is not None:
        try:
            tokenizer = loader.from_pretrained(str(folder), local_files_only=True)
        except (OSError, ValueError, TypeError, KeyError) as exc:
            raise ModelLoadError(
                f"The tokenizer files in {folder.name} are damaged.", repr(exc)
            ) from exc
    if len(tokenizer) > spec.text.vocab_size:
        raise ModelLoadError(
            f"The tokenizer in {folder.name} does not belong to this model (its vocabulary is "
            "larger than the model's).",
            f"tokenizer {len(tokenizer)} tokens, model {spec.text.vocab_size}",
        )
    return tokenizer


def open_folder(folder: Path) -> OpenClipFolder:
    """Open an open_clip hub folder offline (raises ``ModelLoadError`` with a plain message)."""
    from medgrad_desktop.explain.openai_format import read_checkpoint_file

    model_cfg, preprocess_cfg = read_config(folder)
    path = weight_file(folder)
    state = read_checkpoint_file(path)
    spec = infer_open_clip_spec(state, model_cfg, preprocess_cfg)
    tokenizer = load_tokenizer(folder, spec)
    if spec.text.kind == BERT and tokenizer.pad_token_id is not None:
        spec = _with_pad_id(spec, int(tokenizer.pad_token_id))
    model = build_model(state, spec, folder.name)
    log.info("Opened %s: %s", folder, spec.describe())
    return OpenClipFolder(model, tokenizer, spec, path, folder, no_derivatives_licence(folder))


def _with_pad_id(spec: OpenClipSpec, pad_id: int) -> OpenClipSpec:
    from dataclasses import replace

    return replace(spec, text=replace(spec.text, pad_token_id=pad_id))


def save_folder(model: OpenClipModel, base: Path, folder: Path, half: bool = False) -> Path:
    """Write ``model`` into ``folder`` in ``base``'s layout: the same config and tokenizer
    files, the weights in the same file format and key names."""
    folder.mkdir(parents=True, exist_ok=True)
    if base.resolve() != folder.resolve():
        for source in base.iterdir():
            keep = source.suffix in _KEPT_SUFFIXES or source.name in _KEPT_NAMES
            if source.is_file() and keep:
                shutil.copyfile(source, folder / source.name)
    dtype = torch.float16 if half else torch.float32
    state = {
        k: v.detach().to("cpu", dtype).contiguous() for k, v in model.open_clip_state_dict().items()
    }
    target = weight_file(base).name
    for stale in (SAFETENSORS_FILE, PICKLE_FILE):
        (folder / stale).unlink(missing_ok=True)
    if target == SAFETENSORS_FILE:
        from safetensors.torch import save_file

        save_file(state, str(folder / target))
    else:
        torch.save(state, folder / target)
    return folder
