"""Write the OpenAI CLIP BPE tokenizer as a Hugging Face tokenizer folder (dev-only).

Reads the merges file ``bpe_simple_vocab_16e6.txt.gz`` that the open_clip wheel ships and
writes ``vocab.json`` + ``merges.txt`` (+ configs and ``tokenizer.json``) laid out exactly as
OpenAI's ``SimpleTokenizer`` builds its vocabulary: the 256 byte characters, the same with ``</w>``,
one entry per merge, then ``<|startoftext|>`` and ``<|endoftext|>``. ``--max-merges N`` keeps
only the first N merges: a smaller but still complete BPE (any text tokenizes, in smaller
pieces), for models with a small embedding table.

    python scripts/make_openai_tokenizer.py --bpe PATH --out resources/tokenizers/openai-clip
"""

from __future__ import annotations

import argparse
import gzip
import json
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "resources" / "tokenizers" / "openai-clip"
BPE_NAME = "bpe_simple_vocab_16e6.txt.gz"
OPENAI_MERGE_COUNT = 49152 - 256 - 2  # how many merges OpenAI's SimpleTokenizer uses
CONTEXT_LENGTH = 77
START_TOKEN = "<|startoftext|>"
END_TOKEN = "<|endoftext|>"


def bytes_to_unicode() -> dict[int, str]:
    """OpenAI's reversible map from the 256 byte values to printable unicode characters."""
    printable = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    byte_values = printable[:]
    code_points = printable[:]
    extra = 0
    for value in range(256):
        if value not in byte_values:
            byte_values.append(value)
            code_points.append(256 + extra)
            extra += 1
    return dict(zip(byte_values, [chr(point) for point in code_points], strict=True))


def read_merges(bpe_path: Path, max_merges: int | None) -> list[tuple[str, str]]:
    """The merges OpenAI uses (the first 48894 after the version line), optionally fewer."""
    with gzip.open(bpe_path) as handle:
        lines = handle.read().decode("utf-8").split("\n")
    count = OPENAI_MERGE_COUNT if max_merges is None else min(max_merges, OPENAI_MERGE_COUNT)
    merges = [tuple(line.split()) for line in lines[1 : count + 1]]
    if len(merges) != count or any(len(merge) != 2 for merge in merges):
        raise ValueError(f"{bpe_path} does not look like OpenAI's BPE merges file")
    return merges  # type: ignore[return-value]


def build_vocab(merges: list[tuple[str, str]]) -> dict[str, int]:
    """Token → id, in SimpleTokenizer's order."""
    byte_chars = list(bytes_to_unicode().values())
    tokens = byte_chars + [char + "</w>" for char in byte_chars]
    tokens += ["".join(merge) for merge in merges]
    tokens += [START_TOKEN, END_TOKEN]
    vocab = {token: index for index, token in enumerate(tokens)}
    if len(vocab) != len(tokens):
        raise ValueError("duplicate tokens in the BPE vocabulary")
    return vocab


def write_tokenizer_folder(bpe_path: Path, out_dir: Path, max_merges: int | None = None) -> int:
    """Write the tokenizer folder; returns the vocabulary size."""
    merges = read_merges(bpe_path, max_merges)
    vocab = build_vocab(merges)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "vocab.json").write_text(
        json.dumps(vocab, ensure_ascii=False, separators=(",", ":")) + "\n", encoding="utf-8"
    )
    merges_text = "#version: 0.2\n" + "".join(f"{first} {second}\n" for first, second in merges)
    (out_dir / "merges.txt").write_text(merges_text, encoding="utf-8")
    special = {
        "bos_token": START_TOKEN,
        "eos_token": END_TOKEN,
        "unk_token": END_TOKEN,
        "pad_token": END_TOKEN,
    }
    config = {
        "tokenizer_class": "CLIPTokenizer",
        "model_max_length": CONTEXT_LENGTH,
        "do_lower_case": True,
        "clean_up_tokenization_spaces": False,
        "model_input_names": ["input_ids", "attention_mask"],
        **special,
    }
    for name, payload in (("tokenizer_config.json", config), ("special_tokens_map.json", special)):
        (out_dir / name).write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    write_tokenizer_json(out_dir)
    return len(vocab)


def write_tokenizer_json(out_dir: Path) -> None:
    """``tokenizer.json``: the pipeline transformers' ``CLIPTokenizerFast`` builds from the
    vocabulary and merges, saved for the ``tokenizers`` library (read without transformers)."""
    from transformers import CLIPTokenizerFast

    (out_dir / "tokenizer.json").unlink(missing_ok=True)  # built from vocab.json + merges.txt
    backend = CLIPTokenizerFast.from_pretrained(str(out_dir)).backend_tokenizer
    backend.no_truncation()
    backend.no_padding()
    (out_dir / "tokenizer.json").write_text(backend.to_str() + "\n", encoding="utf-8")


def download_bpe(work_dir: Path) -> Path:
    """Fetch the open_clip wheel (no dependencies) with pip and extract the merges file."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "download",
            "open_clip_torch",
            "--no-deps",
            "-d",
            str(work_dir),
        ],
        check=True,
    )
    wheel = next(work_dir.glob("open_clip_torch-*.whl"))
    with zipfile.ZipFile(wheel) as archive:
        member = next(name for name in archive.namelist() if name.endswith(BPE_NAME))
        target = work_dir / BPE_NAME
        target.write_bytes(archive.read(member))
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bpe", type=Path, help=f"path to {BPE_NAME} (downloaded if omitted)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output folder")
    parser.add_argument("--max-merges", type=int, default=None, help="keep only the first N merges")
    args = parser.parse_args(argv)
    if args.max_merges is not None and args.max_merges < 0:
        parser.error("--max-merges must be zero or more")
    with tempfile.TemporaryDirectory() as temp:
        bpe_path = args.bpe or download_bpe(Path(temp))
        size = write_tokenizer_folder(bpe_path, args.out, args.max_merges)
    print(f"wrote {args.out} (vocabulary size {size})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
