"""Write ``tests/data/openai_tokenizer_golden.json`` from the ORIGINAL CLIP tokenizer (dev-only).

Runs open_clip's copy of OpenAI's ``SimpleTokenizer`` (needs ``ftfy`` and ``regex``) on a set
of strings and stores the ids, so the tests can check the bundled Hugging Face tokenizer
without open_clip installed.

    python scripts/make_tokenizer_golden.py --tokenizer-py /tmp/oc/open_clip/tokenizer.py
"""

from __future__ import annotations

import argparse
import importlib.util
import json
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO_ROOT / "tests" / "data" / "openai_tokenizer_golden.json"
DEFAULT_TOKENIZER_PY = Path("/tmp/oc/open_clip/tokenizer.py")
CONTEXT_LENGTH = 77

# (text, needs_cleaning): True where OpenAI's ftfy/html cleaning changes the text, so only
# medgrad_desktop.explain.tokenizer.tokenize (which adds that cleaning) must match.
CASES: list[tuple[str, bool]] = [
    ("a dermoscopic image of melanoma", False),
    ("Atypical Nevus, Irregular PIGMENT network!!!", False),
    ("blue-white veil; regression-structures (see: ABCD-rule) -- well-defined", False),
    ("  leading   and\ttrailing\n whitespace  ", False),
    ("diameter 6.5mm, 3 colours, 12/2023, 1,000,000 and 42nd", False),
    ("café naïve Köbner Ångström cafe\u0301", False),
    ("日本語の皮膚科 and 皮肤镜 and Ελληνικά", False),
    ("emoji 🙂 lesion ⚠ ✓", False),
    ("don't it's we're I'VE you'll he'd I'm", False),
    ("Dermatoscopy: 'asymmetry' \"streaks\" <dots> & {globules} [milia] #1 @clinic ~50%", False),
    ("", False),
    ("the lesion shows irregular dots and globules, " * 12, False),
    ("the lesion\u2019s \u201cpink\u201d veil", True),
    ("pigment &amp; vessels &lt;2mm&gt;", True),
    ("ＡＢＣＤ rule", True),
]


def load_simple_tokenizer(tokenizer_py: Path):
    """Import open_clip's tokenizer.py from a file path (its merges file sits beside it)."""
    spec = importlib.util.spec_from_file_location("openai_simple_tokenizer", tokenizer_py)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.SimpleTokenizer()


def golden_cases(tokenizer) -> list[dict]:
    """Each case's ids up to and including the end token (OpenAI pads the rest with 0)."""
    rows = tokenizer([text for text, _ in CASES], context_length=CONTEXT_LENGTH)
    cases = []
    for (text, needs_cleaning), row in zip(CASES, rows.tolist(), strict=True):
        end = row.index(tokenizer.eot_token_id)
        cases.append({"text": text, "needs_cleaning": needs_cleaning, "ids": row[: end + 1]})
    return cases


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokenizer-py", type=Path, default=DEFAULT_TOKENIZER_PY)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    tokenizer = load_simple_tokenizer(args.tokenizer_py)
    payload = {
        "source": "open_clip tokenizer.SimpleTokenizer (OpenAI CLIP BPE), clean='lower'",
        "context_length": CONTEXT_LENGTH,
        "start_id": tokenizer.sot_token_id,
        "end_id": tokenizer.eot_token_id,
        "cases": golden_cases(tokenizer),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {len(payload['cases'])} cases to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
