"""The OpenAI CLIP BPE tokenizer (bundled in ``resources/tokenizers/openai-clip``) and batching.

OpenAI's tokenizer cleans text with ``ftfy`` and ``html.unescape`` before the BPE; the
Hugging Face tokenizer only normalises (NFC, whitespace, lower case). :func:`clean_text`
adds the cleaning steps that matter for typed prompts (HTML entities, curly quotes,
full-width characters) without needing ``ftfy`` at run time.
"""

from __future__ import annotations

import html
import logging
import re
import unicodedata

import torch
from transformers import CLIPTokenizerFast, PreTrainedTokenizerBase

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


def load_openai_tokenizer() -> CLIPTokenizerFast:
    """The bundled OpenAI CLIP tokenizer (vocabulary 49408, context 77)."""
    folder = resource_path("tokenizers", "openai-clip")
    try:
        return CLIPTokenizerFast.from_pretrained(str(folder))
    except (OSError, ValueError) as exc:
        raise ModelLoadError(
            "The text tokenizer bundled with the application is missing or damaged; "
            "please reinstall.",
            details=f"{folder}: {exc}",
        ) from exc


def clean_text(text: str) -> str:
    """OpenAI's pre-tokenisation cleaning that the Hugging Face tokenizer lacks."""
    text = html.unescape(html.unescape(text))
    text = _DOUBLE_QUOTES.sub('"', _SINGLE_QUOTES.sub("'", text))
    return text.translate(_WIDTH_MAP).strip()


def tokenize(
    tokenizer: PreTrainedTokenizerBase,
    texts: str | list[str],
    context_length: int = OPENAI_CONTEXT_LENGTH,
) -> dict[str, torch.Tensor]:
    """Token ids and attention mask (LongTensors, shape ``[len(texts), L]``).

    Texts are cleaned as OpenAI does, wrapped in start/end tokens and truncated to
    ``context_length`` with the end token kept last (the token CLIP pools). Rows are padded
    with the pad token to the longest row (``L <= context_length``).
    """
    batch = [texts] if isinstance(texts, str) else list(texts)
    encoded = tokenizer(
        [clean_text(text) for text in batch],
        padding="longest",
        truncation=True,
        max_length=context_length,
        return_tensors="pt",
    )
    return {
        "input_ids": encoded["input_ids"].long(),
        "attention_mask": encoded["attention_mask"].long(),
    }
