"""A plain-Python BERT WordPiece tokenizer, written from google-research/bert's
``tokenization.py`` (BasicTokenizer + WordpieceTokenizer, uncased), for tokenizer tests."""

from __future__ import annotations

import unicodedata


def _is_punctuation(char: str) -> bool:
    code = ord(char)
    if 33 <= code <= 47 or 58 <= code <= 64 or 91 <= code <= 96 or 123 <= code <= 126:
        return True
    return unicodedata.category(char).startswith("P")


def _is_cjk(code: int) -> bool:
    ranges = [
        (0x4E00, 0x9FFF), (0x3400, 0x4DBF), (0x20000, 0x2A6DF), (0x2A700, 0x2B73F),
        (0x2B740, 0x2B81F), (0x2B820, 0x2CEAF), (0xF900, 0xFAFF), (0x2F800, 0x2FA1F),
    ]  # fmt: skip
    return any(low <= code <= high for low, high in ranges)


def _basic_tokens(text: str) -> list[str]:
    cleaned = []
    for char in text:
        code = ord(char)
        control = code in (0, 0xFFFD) or unicodedata.category(char) in ("Cc", "Cf")
        if control and char not in "\t\n\r":
            continue
        if char in " \t\n\r" or unicodedata.category(char) == "Zs":
            cleaned.append(" ")
        elif _is_cjk(code):
            cleaned.append(f" {char} ")
        else:
            cleaned.append(char)
    tokens = []
    for word in "".join(cleaned).split():
        word = unicodedata.normalize("NFD", word.lower())
        word = "".join(c for c in word if unicodedata.category(c) != "Mn")
        piece = ""
        for char in word:
            if _is_punctuation(char):
                tokens += [piece, char] if piece else [char]
                piece = ""
            else:
                piece += char
        if piece:
            tokens.append(piece)
    return tokens


def _wordpieces(word: str, vocab: dict[str, int]) -> list[str]:
    if len(word) > 100:
        return ["[UNK]"]
    pieces, start = [], 0
    while start < len(word):
        end, found = len(word), None
        while start < end:
            candidate = ("##" if start else "") + word[start:end]
            if candidate in vocab:
                found = candidate
                break
            end -= 1
        if found is None:
            return ["[UNK]"]
        pieces.append(found)
        start = end
    return pieces


def bert_ids(text: str, vocab: dict[str, int], context_length: int) -> list[int]:
    """[CLS] wordpieces [SEP], truncated to ``context_length`` with [SEP] kept."""
    pieces = [p for word in _basic_tokens(text) for p in _wordpieces(word, vocab)]
    ids = [vocab[p] for p in pieces][: context_length - 2]
    return [vocab["[CLS]"], *ids, vocab["[SEP]"]]
