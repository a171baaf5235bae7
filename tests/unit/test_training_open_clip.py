"""Fine-tuning open_clip bases: LoRA on a tiny BiomedCLIP-layout model runs, resumes after a
stop, and writes best/ as an open_clip folder (LoRA merged) that reloads with equal
embeddings; per-family LoRA targets; the Derma-Semantics Pro recipe; no-derivatives refusal."""

from __future__ import annotations

import re
import signal

import pytest
import torch

from medgrad_desktop.explain import load_model
from medgrad_desktop.explain.open_clip.model import is_ignored_key
from medgrad_desktop.paths import resource_path
from tests.open_clip_reference import (
    bert_text_embedding,
    timm_image_embedding,
    write_biomedclip_folder,
)
from training import fit
from training.cli import main
from training.config import TrainConfig, load_yaml_config
from training.events import read_events
from training.model_setup import build_model
from training.synthetic import write_dataset

BIN = "open_clip_pytorch_model.bin"


@pytest.fixture(scope="module")
def biomed(tmp_path_factory):
    root = tmp_path_factory.mktemp("open_clip_training")
    data = write_dataset(root / "data", 16, seed=5, size=48)
    return data, write_biomedclip_folder(root / "BiomedCLIP base")


def _lora_layers(model) -> set[str]:
    return {name.rsplit(".lora_A", 1)[0] for name, _ in model.named_modules() if ".lora_A" in name}


def test_lora_defaults_follow_the_family(biomed):
    model = build_model(TrainConfig(base=str(biomed[1]), method="lora", lora_r=4)).model
    adapted = _lora_layers(model)
    image = {re.sub(r".*blocks\.\d+\.", "", n) for n in adapted if ".trunk.blocks." in n}
    text = {re.sub(r".*layer\.\d+\.", "", n) for n in adapted if ".encoder.layer." in n}
    assert image == {"attn.qkv", "attn.proj", "mlp.fc1", "mlp.fc2"}
    assert text == {
        "attention.self.query",
        "attention.self.key",
        "attention.self.value",
        "attention.output.dense",
        "intermediate.dense",
        "output.dense",
    }
    assert not any(("head.proj" in n or "patch_embed" in n or "text.proj" in n) for n in adapted)


def test_derma_semantics_pro_recipe_adapts_only_the_image_tower(biomed):
    recipe = load_yaml_config(resource_path("training", "derma_semantics_pro.yaml"))
    config = TrainConfig(**{**recipe, "base": str(biomed[1])}).validate()
    model = build_model(config).model
    adapted = _lora_layers(model)
    assert adapted and all(".trunk.blocks." in name for name in adapted)
    first = model.get_submodule("base_model.model.visual.trunk.blocks.0.attn.qkv")
    assert first.lora_A["default"].weight.shape == (32, 128)
    assert first.scaling["default"] == pytest.approx(64 / 32)
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert not any(".text." in n for n in trainable if "lora_" in n)
    assert not any("text.transformer" in n and "lora_" not in n for n in trainable)


def _fit(data, base, run, *extra) -> int:
    return main(
        ["fit", "--data", str(data), "--base", str(base), "--batch-size", "4", "--lr", "1e-2",
         "--threads", "1", "--run-dir", str(run), *extra]
    )  # fmt: skip


def test_lora_fine_tuning_runs_resumes_and_best_reloads_in_open_clip_layout(
    biomed, tmp_path, monkeypatch
):
    data, base = biomed
    run = tmp_path / "run"
    on_step = fit.FitRun.on_step

    def stop_after_first(self, step, *args):  # Ctrl-C during the first step
        on_step(self, step, *args)
        if step == 1:
            signal.raise_signal(signal.SIGINT)

    monkeypatch.setattr(fit.FitRun, "on_step", stop_after_first)
    assert _fit(data, base, run, "--method", "lora", "--lora-r", "4", "--epochs", "2") == 130
    monkeypatch.undo()
    assert main(["fit", "--resume", str(run), "--threads", "1"]) == 0
    events = read_events(run)
    restarted = [e for e in events if e["event"] == "started"][-1]
    assert restarted["resumed"] and restarted["start_step"] == 1
    assert events[-1]["event"] == "finished"

    best = run / "best"
    for name in ("open_clip_config.json", "vocab.txt", "tokenizer.json"):
        assert (best / name).read_bytes() == (base / name).read_bytes(), name
    assert not (best / "config.json").exists()  # not turned into a Hugging Face CLIP folder
    saved = torch.load(best / BIN, weights_only=True)
    original = torch.load(base / BIN, weights_only=True)
    assert set(saved) == {k for k in original if not is_ignored_key(k)}  # open_clip's keys
    qkv, patch = "visual.trunk.blocks.0.attn.qkv.weight", "visual.trunk.patch_embed.proj.weight"
    assert not torch.equal(saved[qkv], original[qkv])  # LoRA merged into the base weight
    assert torch.equal(saved[patch], original[patch])  # not a LoRA target: unchanged

    bundle = load_model(best, device="cpu")
    pixels = torch.randn(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    tokens = bundle.tokenize(["melanoma", "a blue white veil"])
    with torch.no_grad():
        image = bundle.encode_image(pixels)
        text = bundle.encode_text(["melanoma", "a blue white veil"])
    normalize = torch.nn.functional.normalize
    expected_image = normalize(timm_image_embedding(saved, pixels, heads=2), dim=-1)
    expected_text = normalize(bert_text_embedding(saved, tokens["input_ids"], heads=2), dim=-1)
    assert torch.allclose(image, expected_image, atol=1e-4)
    assert torch.allclose(text, expected_text, atol=1e-4)


def test_no_derivatives_licence_is_refused_with_a_plain_message(biomed, tmp_path, capsys):
    import shutil

    data, base = biomed
    folder = tmp_path / "DermFM-Zero"
    shutil.copytree(base, folder)
    (folder / "README.md").write_text("---\nlicense: cc-by-nc-nd-4.0\n---\n# DermFM-Zero\n")
    assert _fit(data, folder, tmp_path / "run", "--epochs", "1") == 2
    message = capsys.readouterr().err
    assert "does not allow changed versions" in message and "cannot be fine-tuned" in message
    assert not (tmp_path / "run" / "best").exists()
    load_model(folder, device="cpu")  # it still opens for explanation
