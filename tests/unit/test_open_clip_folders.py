"""open_clip hub folders: architecture from shapes (full-size on meta), exact forwards against
independent references, BERT tokenizer ids, offline loading and plain errors."""

from __future__ import annotations

import html
import json
import shutil

import pytest
import torch

from medgrad_desktop.errors import ModelLoadError
from medgrad_desktop.explain.open_clip.folder import open_folder
from medgrad_desktop.explain.open_clip.infer import infer_open_clip_spec
from medgrad_desktop.explain.open_clip.model import build_on_meta, check_state_dict
from medgrad_desktop.explain.tokenizer import tokenize
from tests.bert_reference import bert_ids
from tests.open_clip_reference import (
    bert_text_embedding,
    biomedclip_config,
    biomedclip_state,
    native_clip,
    native_config,
    timm_image_embedding,
    write_bert_tokenizer,
    write_biomedclip_folder,
    write_native_folder,
)
from tests.openai_reference import OpenAIClip

PROMPTS = ["melanoma of the skin", "a blue white veil with irregular dots", "common nevus"]


def _meta_openai(**sizes) -> dict[str, torch.Tensor]:
    with torch.device("meta"):
        return OpenAIClip(**sizes).state_dict()


def _full_size_cases():
    biomed = biomedclip_state(
        image_size=224, patch=16, vision_width=768, vision_layers=12, text_width=768,
        text_layers=12, vocab_size=30522, positions=512, embed=512, meta=True,
    )  # fmt: skip
    biomed_cfg = biomedclip_config(image_size=224, context_length=256, embed=512)
    large = _meta_openai(
        embed=768, image_size=224, patch=14, vision_width=1024, vision_layers=24,
        text_width=768, text_layers=12,
    )  # fmt: skip
    base = _meta_openai(
        embed=512, image_size=224, patch=16, vision_width=768, vision_layers=12,
        text_width=512, text_layers=12,
    )  # fmt: skip
    text_cfg = {"context_length": 77, "heads": 8}
    return {
        "biomedclip": (biomed, biomed_cfg["model_cfg"]),
        "vit_l14_quickgelu": (large, {"quick_gelu": True, "text_cfg": {"heads": 12}}),
        "dermlip_b16": (base, {"text_cfg": text_cfg}),
    }


FULL = _full_size_cases()


@pytest.mark.parametrize(
    ("case", "expected", "description"),
    [
        (
            "biomedclip",
            dict(kind="timm", width=768, layers=12, heads=12, patch=16, image=224, mlp=3072,
                 embed=512, text="bert", text_width=768, text_layers=12, text_heads=12,
                 vocab=30522, positions=512, context=256, projection="mlp"),
            "BiomedCLIP-style open_clip model: ViT-B/16 image tower, BERT text tower, 256 tokens",
        ),
        (
            "vit_l14_quickgelu",
            dict(kind="native", width=1024, layers=24, heads=16, patch=14, image=224, mlp=4096,
                 embed=768, text="native", text_width=768, text_layers=12, text_heads=12,
                 vocab=49408, positions=77, context=77, projection="linear"),
            "open_clip model: ViT-L/14 image tower (QuickGELU), transformer text tower, 77 tokens",
        ),
        (
            "dermlip_b16",
            dict(kind="native", width=768, layers=12, heads=12, patch=16, image=224, mlp=3072,
                 embed=512, text="native", text_width=512, text_layers=12, text_heads=8,
                 vocab=49408, positions=77, context=77, projection="linear"),
            "open_clip model: ViT-B/16 image tower, transformer text tower, 77 tokens",
        ),
    ],
)  # fmt: skip
def test_full_size_architectures_are_inferred_from_meta_shapes(case, expected, description):
    state, model_cfg = FULL[case]
    spec = infer_open_clip_spec(state, model_cfg, {})
    vision, text = spec.vision, spec.text
    found = dict(
        kind=vision.kind, width=vision.width, layers=vision.layers, heads=vision.heads,
        patch=vision.patch_size, image=vision.image_size, mlp=vision.mlp_width,
        embed=vision.embed_dim, text=text.kind, text_width=text.width, text_layers=text.layers,
        text_heads=text.heads, vocab=text.vocab_size, positions=text.positions,
        context=text.context_length, projection=text.projection,
    )  # fmt: skip
    assert found == expected
    assert spec.describe() == description
    assert spec.vision.activation == ("quick_gelu" if "quickgelu" in case else "gelu")
    missing, unexpected, wrong = check_state_dict(build_on_meta(spec), state)
    assert (missing, unexpected, wrong) == ([], [], [])


def test_named_models_in_the_config_are_hints_only():
    state, model_cfg = FULL["biomedclip"]
    lying = json.loads(json.dumps(model_cfg))
    lying["vision_cfg"]["timm_model_name"] = "vit_large_patch14_224"
    lying["text_cfg"]["hf_model_name"] = "bert-large-uncased"
    assert infer_open_clip_spec(state, lying, {}) == infer_open_clip_spec(state, model_cfg, {})


@pytest.fixture(scope="module")
def biomed_folder(tmp_path_factory):
    return write_biomedclip_folder(tmp_path_factory.mktemp("biomed") / "BiomedCLIP")


def _pixels(seed: int = 0, side: int = 32) -> torch.Tensor:
    return torch.randn(3, 3, side, side, generator=torch.Generator().manual_seed(seed))


def test_biomedclip_layout_matches_the_reference_forward(biomed_folder):
    opened = open_folder(biomed_folder)
    state = torch.load(biomed_folder / "open_clip_pytorch_model.bin", weights_only=True)
    pixels = _pixels()
    tokens = tokenize(opened.tokenizer, PROMPTS, opened.spec.text.context_length)
    with torch.no_grad():
        image = opened.model.encode_image(pixels)
        text = opened.model.encode_text(**tokens)
    reference_image = timm_image_embedding(state, pixels, heads=2)
    reference_text = bert_text_embedding(state, tokens["input_ids"], heads=2)
    normalize = torch.nn.functional.normalize
    assert torch.allclose(normalize(image, dim=-1), normalize(reference_image, dim=-1), atol=1e-4)
    assert torch.allclose(normalize(text, dim=-1), normalize(reference_text, dim=-1), atol=1e-4)
    assert tokens["attention_mask"].min() == 0  # padding present: the mask was exercised
    assert opened.spec.image_mean == (0.48145466, 0.4578275, 0.40821073)


@pytest.mark.parametrize(
    ("quick_gelu", "weights"), [(False, "safetensors"), (True, "bin")], ids=["gelu", "quickgelu"]
)
def test_native_vit_layout_matches_the_reference_forward(tmp_path, quick_gelu, weights):
    reference = native_clip(seed=3, quick_gelu=quick_gelu)
    folder = write_native_folder(tmp_path / "DermLIP", reference, quick_gelu, weights)
    opened = open_folder(folder)
    pixels = _pixels(1)
    tokens = tokenize(opened.tokenizer, PROMPTS)
    rows = torch.zeros(len(PROMPTS), 77, dtype=torch.long)  # open_clip's zero padding to 77
    rows[:, : tokens["input_ids"].shape[1]] = tokens["input_ids"] * tokens["attention_mask"]
    with torch.no_grad():
        image, text = opened.model.encode_image(pixels), opened.model.encode_text(**tokens)
        expected_image, expected_text = reference.encode_image(pixels), reference.encode_text(rows)
    assert torch.allclose(image, expected_image, atol=1e-4)
    assert torch.allclose(text, expected_text, atol=1e-4)
    # the activation is structural: the other one gives clearly different embeddings
    config = json.loads((folder / "open_clip_config.json").read_text())
    config["model_cfg"]["quick_gelu"] = not quick_gelu
    (folder / "open_clip_config.json").write_text(json.dumps(config))
    with torch.no_grad():
        other = open_folder(folder).model.encode_image(pixels)
    assert (other - expected_image).abs().max() > 1e-3


def test_folder_in_a_path_with_spaces_and_non_ascii_opens(biomed_folder, tmp_path):
    target = tmp_path / "Modèles dermatologie – 皮肤" / "BiomedCLIP 256 (copie)"
    shutil.copytree(biomed_folder, target)
    opened = open_folder(target)
    assert opened.folder == target
    assert opened.describe().startswith("BiomedCLIP-style open_clip model")


TOKENIZER_STRINGS = [
    "Melanoma",
    "a dermoscopic image of melanoma.",
    "Blue-white veil",
    "ATYPICAL pigment network!",
    "naïve nevus",
    "dots/globules (irregular)",
    "  multiple   spaces\tand\ttabs ",
    "unknownword 😀 xyz",
    "中 lesion",
    "asymmetry: one axis; two axes",
    "basal cell carcinoma &amp; actinic keratosis",
    "café-au-lait",
    "pigment network " * 40,
]


@pytest.mark.parametrize(
    "files", [("vocab.txt",), ("tokenizer.json",), ("vocab.txt", "tokenizer.json")]
)
def test_bert_tokenizer_ids_equal_bert_tokenizer_fast_and_wordpiece(tmp_path, files):
    from transformers import BertTokenizerFast

    from medgrad_desktop.explain.open_clip.folder import load_tokenizer

    write_bert_tokenizer(tmp_path / "tok", files)
    write_bert_tokenizer(tmp_path / "ref", ("vocab.txt",))
    vocab_lines = (tmp_path / "ref" / "vocab.txt").read_text(encoding="utf-8").splitlines()
    vocab = {token: index for index, token in enumerate(vocab_lines)}
    spec = infer_open_clip_spec(biomedclip_state(), biomedclip_config()["model_cfg"], {})
    ours = load_tokenizer(tmp_path / "tok", spec)
    batch = tokenize(ours, TOKENIZER_STRINGS, spec.text.context_length)
    reference = BertTokenizerFast(vocab=vocab)
    for row, mask, text in zip(
        batch["input_ids"], batch["attention_mask"], TOKENIZER_STRINGS, strict=True
    ):
        cleaned = " ".join(html.unescape(html.unescape(text)).split())  # open_clip's cleaning
        expected = reference(cleaned, truncation=True, max_length=32)["input_ids"]
        ids = row[mask.bool()].tolist()
        assert ids == expected == bert_ids(cleaned, vocab, 32), text
    assert vocab["[UNK]"] in batch["input_ids"][7]  # unknown words map to [UNK]
    assert batch["input_ids"].shape[1] == 32  # truncated to the context length


def _edit_state(folder, change):
    path = folder / "open_clip_pytorch_model.bin"
    state = torch.load(path, weights_only=True)
    change(state)
    torch.save(state, path)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda s: s.__setitem__("visual.trunk.blocks.0.ls1.gamma", torch.ones(128)), "ls1.gamma"),
        (lambda s: s.pop("text.proj.2.weight"), "text.proj.2.weight"),
        (lambda s: s.pop("visual.trunk.norm.bias"), "visual.trunk.norm.bias"),
        (
            lambda s: s.__setitem__("visual.trunk.blocks.1.mlp.fc1.bias", torch.zeros(7)),
            "visual.trunk.blocks.1.mlp.fc1.bias",
        ),
    ],
    ids=["unexpected", "missing-projection", "missing", "wrong-shape"],
)
def test_a_folder_that_cannot_open_names_the_tensor(biomed_folder, tmp_path, change, named):
    folder = tmp_path / "broken"
    shutil.copytree(biomed_folder, folder)
    _edit_state(folder, change)
    with pytest.raises(ModelLoadError) as caught:
        open_folder(folder)
    assert named in str(caught.value)


def test_missing_config_tokenizer_or_unsupported_pooling_are_plain_errors(biomed_folder, tmp_path):
    for name, edit, words in [
        ("noconfig", lambda f: (f / "open_clip_config.json").unlink(), "open_clip_config.json"),
        ("notok", lambda f: [(f / n).unlink() for n in ("vocab.txt", "tokenizer.json")], "vocab"),
        ("avgpool", lambda f: _set_pool(f, "avg"), "pooling 'avg'"),
    ]:
        folder = tmp_path / name
        shutil.copytree(biomed_folder, folder)
        edit(folder)
        with pytest.raises(ModelLoadError) as caught:
            open_folder(folder)
        assert words in str(caught.value), name


def _set_pool(folder, pool):
    config = json.loads((folder / "open_clip_config.json").read_text())
    config["model_cfg"]["vision_cfg"]["timm_pool"] = pool
    (folder / "open_clip_config.json").write_text(json.dumps(config))


def test_no_derivatives_licence_is_detected(biomed_folder, tmp_path):
    folder = tmp_path / "DermFM-Zero"
    shutil.copytree(biomed_folder, folder)
    assert open_folder(folder).no_derivatives is None
    (folder / "README.md").write_text("---\nlicense: cc-by-nc-nd-4.0\ntags: [open_clip]\n---\n")
    assert open_folder(folder).no_derivatives == "cc-by-nc-nd-4.0"
    (folder / "README.md").write_text("---\nlicense: cc-by-nc-4.0\n---\nNo derivatives here? No.")
    assert open_folder(folder).no_derivatives is None


def test_native_config_written_like_open_clip():
    config = native_config(native_clip(), quick_gelu=True)
    assert config["model_cfg"]["quick_gelu"] is True
    assert set(config) == {"model_cfg", "preprocess_cfg"}


def test_a_file_chosen_in_the_model_dialog_opens_its_folder(biomed_folder, tmp_path):
    from medgrad_desktop.explain.loading import model_source_for

    chosen = biomed_folder / "open_clip_pytorch_model.bin"
    assert model_source_for(chosen) == biomed_folder
    assert model_source_for(biomed_folder / "open_clip_config.json") == biomed_folder
    lone = tmp_path / "finetuned.pth"
    lone.write_bytes(b"")
    assert model_source_for(lone) == lone
    beside = biomed_folder.parent / "notebook_export.pt"  # a .pt never means its folder
    assert model_source_for(beside) == beside
