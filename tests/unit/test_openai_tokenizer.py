"""The bundled OpenAI CLIP tokenizer equals OpenAI's SimpleTokenizer (golden ids from it)."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

import pytest
import torch
from transformers import CLIPTokenizer, CLIPTokenizerFast

from medgrad_desktop.explain.tokenizer import (
    clean_text,
    load_openai_tokenizer,
    load_tokenizer_json,
    openai_tokenizer,
    tokenize,
)
from medgrad_desktop.paths import resource_path

REPO_ROOT = Path(__file__).resolve().parents[2]
GOLDEN = json.loads((REPO_ROOT / "tests/data/openai_tokenizer_golden.json").read_text("utf-8"))
CASES = GOLDEN["cases"]
PLAIN_CASES = [case for case in CASES if not case["needs_cleaning"]]
START, END = GOLDEN["start_id"], GOLDEN["end_id"]


def case_id(case: dict) -> str:
    return repr(case["text"][:24])


@pytest.fixture(scope="module")
def bundled_folder() -> Path:
    return resource_path("tokenizers", "openai-clip")


@pytest.fixture(scope="module", params=["transformers", "bundled", "model folder"])
def tokenizer(request, tiny_model_dir):
    """The bundled tokenizer in transformers; the same read without transformers, from the
    bundled ``tokenizer.json`` and from a model folder's (what the viewer opens)."""
    if request.param == "transformers":
        return load_openai_tokenizer()
    if request.param == "bundled":
        return openai_tokenizer()
    return load_tokenizer_json(tiny_model_dir)


def load_script():
    path = REPO_ROOT / "scripts" / "make_openai_tokenizer.py"
    spec = importlib.util.spec_from_file_location("make_openai_tokenizer", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_golden_file_covers_the_required_cases():
    assert (START, END) == (49406, 49407)
    assert len(CASES) >= 12
    truncated = [case for case in CASES if len(case["ids"]) == GOLDEN["context_length"]]
    assert truncated and all(case["ids"][-1] == END for case in truncated)
    assert any(case["text"] == "" and case["ids"] == [START, END] for case in CASES)


@pytest.fixture(scope="module", params=[CLIPTokenizer, CLIPTokenizerFast], ids=lambda c: c.__name__)
def hf_tokenizer(request, bundled_folder):
    return request.param.from_pretrained(str(bundled_folder))


@pytest.mark.parametrize("case", PLAIN_CASES, ids=case_id)
def test_hugging_face_tokenizer_matches_openai(hf_tokenizer, case):
    ids = hf_tokenizer(case["text"], truncation=True, max_length=77)["input_ids"]
    assert ids == case["ids"]


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_tokenize_matches_openai_including_cleaning(case, tokenizer):
    batch = tokenize(tokenizer, case["text"])
    assert batch["input_ids"].tolist() == [case["ids"]]
    assert batch["attention_mask"].tolist() == [[1] * len(case["ids"])]


def test_tokenize_batch_pads_with_end_token_and_keeps_end_when_truncated(tokenizer):
    long_text = "irregular dots and globules " * 40
    batch = tokenize(tokenizer, ["melanoma", long_text, "a nevus"])
    ids, mask = batch["input_ids"], batch["attention_mask"]
    assert ids.dtype == mask.dtype == torch.long
    assert ids.shape == mask.shape == (3, 77)
    assert ids[1, 0] == START and ids[1, -1] == END and mask[1].all()
    assert (ids[:, 0] == START).all()
    first_end = (ids == END).int().argmax(dim=1)
    assert first_end.tolist() == [mask[0].sum() - 1, 76, mask[2].sum() - 1]
    assert (ids[0, first_end[0] :] == END).all()
    assert (mask[0, first_end[0] + 1 :] == 0).all()
    short = tokenize(tokenizer, ["melanoma", "a nevus"], context_length=3)["input_ids"]
    assert short.tolist() == [[START, ids[0, 1].item(), END], [START, ids[2, 1].item(), END]]


def test_clean_text_applies_openai_cleaning():
    assert clean_text(" the lesion\u2019s \u201cpink\u201d &amp;lt; ") == 'the lesion\'s "pink" <'
    assert clean_text("ＡＢＣ\u3000rule") == "ABC rule"


def test_bundled_tokenizer_settings():
    tokenizer = load_openai_tokenizer()
    assert isinstance(tokenizer, CLIPTokenizerFast)
    assert len(tokenizer) == 49408
    assert tokenizer.model_max_length == 77
    assert (tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id) == (
        START,
        END,
        END,
    )


@pytest.fixture(scope="module")
def merges_gz(tmp_path_factory, bundled_folder) -> Path:
    """A BPE merges file like open_clip's, rebuilt from the bundled merges.txt."""
    path = tmp_path_factory.mktemp("bpe") / "bpe_simple_vocab_16e6.txt.gz"
    merges = (bundled_folder / "merges.txt").read_text("utf-8").split("\n", 1)[1]
    path.write_bytes(gzip.compress(("bpe_simple_vocab_16e6.txt#version: 0.2\n" + merges).encode()))
    return path


def test_script_regenerates_the_bundled_files_exactly(merges_gz, bundled_folder, tmp_path):
    size = load_script().write_tokenizer_folder(merges_gz, tmp_path)
    assert size == 49408
    names = ("vocab.json", "merges.txt", "tokenizer_config.json", "special_tokens_map.json")
    for name in (*names, "tokenizer.json"):
        assert (tmp_path / name).read_bytes() == (bundled_folder / name).read_bytes(), name


def test_truncated_vocabulary_still_tokenizes_every_text(merges_gz, tmp_path):
    tokenizer = load_openai_tokenizer()
    size = load_script().write_tokenizer_folder(merges_gz, tmp_path, max_merges=1000)
    assert size == 512 + 1000 + 2
    small = CLIPTokenizerFast.from_pretrained(str(tmp_path))
    assert (small.bos_token_id, small.eos_token_id, len(small)) == (size - 2, size - 1, size)
    for case in CASES:
        full_ids = tokenize(tokenizer, case["text"])["input_ids"][0]
        small_ids = tokenize(small, case["text"], context_length=512)["input_ids"][0]
        assert small_ids[0] == size - 2 and small_ids[-1] == size - 1
        assert (small_ids[1:-1] < size - 2).all()  # no unknown (= end) token inside
        if len(full_ids) < 77:  # not truncated: same text, in at least as many pieces
            assert len(small_ids) >= len(full_ids)
            assert small.decode(small_ids[1:-1]) == tokenizer.decode(full_ids[1:-1])
    assert len(small("dermatoscopy")["input_ids"]) > len(tokenizer("dermatoscopy")["input_ids"])
