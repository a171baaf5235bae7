"""Tokenizers: the OpenAI CLIP BPE tokenizer (bundled in ``resources/tokenizers/openai-clip``),
a model folder's own ``tokenizer.json`` read without transformers (``ClipTokenizer``), and the
one batching function every text tower uses (``tokenize``).

OpenAI's tokenizer cleans text with ``ftfy`` and ``html.unescape`` before the BPE; the
Hugging Face tokenizer only normalises (NFC, whitespace, lower case). :func:`clean_text`
adds the cleaning steps that matter for typed prompts (HTML entities, curly quotes,
full-width characters) without needing ``ftfy`` at run time.
"""

from __future__ import annotations

import html
import json
import logging
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from medgrad_desktop.errors import ModelLoadError
from medgrad_desktop.paths import resource_path

logger = logging.getLogger(__name__)

OPENAI_CONTEXT_LENGTH = 77
_SINGLE_QUOTES = re.compile("[\u02bc\u2018-\u201b]")  # the characters ftfy.uncurl_quotes maps
_DOUBLE_QUOTES = re.compile("[\u201c-\u201f]")
_WIDTH_MAP = {
    code: unicodedata.normalize("NFKC", chr(code))
    for code in range(0xFF01, 0xFFF0)
    if unicodedata.normalize("NFKC", chr(code)) != chr(code)
} | {0x3000: " "}


BUNDLED_DAMAGED = (
    "The text tokenizer bundled with the application is missing or damaged; please reinstall."
)


def load_openai_tokenizer():
    """The bundled OpenAI CLIP tokenizer (vocabulary 49408, context 77), a transformers
    ``CLIPTokenizerFast`` (training builds and saves models with it)."""
    from transformers import CLIPTokenizerFast

    folder = resource_path("tokenizers", "openai-clip")
    try:
        return CLIPTokenizerFast.from_pretrained(str(folder))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(BUNDLED_DAMAGED, details=f"{folder}: {exc}") from exc


def openai_tokenizer() -> ClipTokenizer:
    """The same bundled tokenizer as a ``ClipTokenizer`` (for models opened to explain)."""
    folder = resource_path("tokenizers", "openai-clip")
    try:
        return load_tokenizer_json(folder)
    except ModelLoadError as exc:
        raise ModelLoadError(BUNDLED_DAMAGED, details=f"{folder}: {exc.details}") from exc


@dataclass
class ClipTokenizer:
    """A model folder's ``tokenizer.json`` in the ``tokenizers`` library itself (what
    transformers' fast tokenizers run), with the special-token ids its settings name. Opening
    it does not import transformers; ``to_transformers`` gives transformers' tokenizer of the
    same folder (for training, which saves it with the model)."""

    backend_tokenizer: Any
    pad_token_id: int
    bos_token_id: int | None
    eos_token_id: int | None
    folder: Path

    def __len__(self) -> int:
        return self.backend_tokenizer.get_vocab_size(with_added_tokens=True)

    def to_transformers(self):
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(self.folder), local_files_only=True)


def load_tokenizer_json(folder: Path) -> ClipTokenizer:
    """``folder``'s ``tokenizer.json`` with the pad, start and end tokens that its
    ``tokenizer_config.json`` (or ``special_tokens_map.json``) names — CLIP's
    ``<|startoftext|>``/``<|endoftext|>`` where neither does. ``ModelLoadError`` if damaged."""
    from tokenizers import Tokenizer

    settings: dict = {}
    try:
        backend = Tokenizer.from_file(str(folder / "tokenizer.json"))
        for name in ("special_tokens_map.json", "tokenizer_config.json"):
            if (folder / name).is_file():
                settings.update(json.loads((folder / name).read_text(encoding="utf-8")))
    except Exception as exc:  # OSError, JSON's ValueError, and tokenizers' plain Exception
        raise ModelLoadError("The model's tokenizer files are damaged.", repr(exc)) from exc

    def token_id(key: str, default: str) -> int | None:
        token = settings.get(key, default)
        token = token.get("content") if isinstance(token, dict) else token
        return backend.token_to_id(token) if isinstance(token, str) else None

    end = token_id("eos_token", "<|endoftext|>")
    pad = token_id("pad_token", "<|endoftext|>")
    if pad is None:
        pad = end
    if pad is None:
        raise ModelLoadError(
            "The model's tokenizer files are damaged.", f"{folder}: no padding token"
        )
    return ClipTokenizer(backend, pad, token_id("bos_token", "<|startoftext|>"), end, folder)


def clean_text(text: str) -> str:
    """OpenAI's pre-tokenisation cleaning that the Hugging Face tokenizer lacks."""
    text = html.unescape(html.unescape(text))
    text = _DOUBLE_QUOTES.sub('"', _SINGLE_QUOTES.sub("'", text))
    return text.translate(_WIDTH_MAP).strip()


def tokenize(
    tokenizer, texts: str | list[str], context_length: int = OPENAI_CONTEXT_LENGTH
) -> dict[str, torch.Tensor]:
    """Token ids and attention mask (LongTensors, shape ``[len(texts), L]``).

    Texts are cleaned as OpenAI does, wrapped in start/end tokens and truncated to
    ``context_length`` with the end token kept last (the token CLIP pools). Rows are padded
    with the pad token to the longest row (``L <= context_length``). ``tokenizer``: a
    ``ClipTokenizer`` or a transformers fast tokenizer; both run their ``backend_tokenizer``
    here, set as transformers sets it for ``padding="longest", truncation=True``.
    """
    batch = [texts] if isinstance(texts, str) else list(texts)
    backend = tokenizer.backend_tokenizer
    pad_id = int(tokenizer.pad_token_id)
    backend.enable_truncation(max_length=context_length)
    backend.enable_padding(pad_id=pad_id, pad_token=backend.id_to_token(pad_id) or "")
    encoded = backend.encode_batch([clean_text(text) for text in batch])
    return {
        "input_ids": torch.tensor([e.ids for e in encoded], dtype=torch.long),
        "attention_mask": torch.tensor([e.attention_mask for e in encoded], dtype=torch.long),
    }
