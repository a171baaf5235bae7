"""Training-step throughput: fp32 vs bf16 autocast, one contrastive CLIP step as ``fit`` runs it
(label-aware symmetric InfoNCE, AdamW fused on CUDA, SDPA attention, gradient clipping).

CUDA: ViT-B/16 CLIP (random weights) at batch 64, peak GPU memory reported. CPU: the demo
model's small architecture at input 224 (ViT-B/16 would take minutes per step).

    python tests/benchmarks/bench_train.py [--device cpu|cuda] [--batch 64] [--steps 20]
        [--compile]

Last line: ``train throughput (<device>): <bf16 images/s> img/s, bf16/fp32 <ratio>x``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from training.config import TrainConfig
from training.loop import ContrastiveModel, autocast_factory, contrastive_loss, make_optimizer

VIT_B16 = {
    "vision_width": 768,
    "vision_layers": 12,
    "vision_heads": 12,
    "text_width": 512,
    "text_layers": 12,
    "text_heads": 8,
    "embed_dim": 512,
}
SMALL = {
    "vision_width": 128,
    "vision_layers": 4,
    "vision_heads": 2,
    "text_width": 128,
    "text_layers": 4,
    "text_heads": 2,
    "embed_dim": 128,
}


def build(device: torch.device, architecture: dict, compile_model: bool):
    from transformers import CLIPModel

    from medgrad_desktop.explain.tokenizer import load_openai_tokenizer
    from training.model_setup import scratch_config

    config = TrainConfig(**architecture)
    model = CLIPModel(scratch_config(config, load_openai_tokenizer())).to(device).train()
    module = ContrastiveModel(model)
    runner = torch.compile(module) if compile_model else module
    return module, runner, make_optimizer(module, config, device)


def measure(device, architecture, batch: int, steps: int, precision: str, compile_model: bool):
    """(images per second, peak GPU memory in GiB or None)."""
    torch.manual_seed(0)
    module, runner, optimizer = build(device, architecture, compile_model)
    autocast = autocast_factory(device, precision)
    pixels = torch.randn(batch, 3, 224, 224, device=device)
    ids = torch.randint(0, 49406, (batch, 40), device=device)
    ids[:, -1] = 49407  # end token last, as the tokenizer puts it
    mask = torch.ones_like(ids)
    labels = torch.arange(batch) % 3

    def step():
        with autocast() if autocast else torch.autocast(device.type, enabled=False):
            image, text, scale = runner(pixels, ids, mask)
        loss = contrastive_loss(image, text, scale, labels)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(module.parameters(), 1.0)
        optimizer.step()

    warmup = 3 if device.type == "cuda" else 1
    for _ in range(warmup):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.type == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    peak = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else None
    return batch * steps / seconds, peak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--device", choices=("cpu", "cuda"), default="cuda" if torch.cuda.is_available() else "cpu"
    )
    parser.add_argument("--batch", type=int, default=None, help="64 on CUDA, 16 on CPU")
    parser.add_argument("--steps", type=int, default=None, help="20 on CUDA, 3 on CPU")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    parser.add_argument("--compile", action="store_true", help="torch.compile the model")
    args = parser.parse_args()
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if not cuda:
        torch.set_num_threads(args.threads)
    architecture = VIT_B16 if cuda else SMALL
    batch = args.batch or (64 if cuda else 16)
    steps = args.steps or (20 if cuda else 3)
    name = "ViT-B/16 CLIP" if cuda else "small CLIP (demo architecture)"
    print(f"{name}, input 224, batch {batch}, {steps} timed steps on {device}")
    results = {}
    for precision in ("fp32", "bf16"):
        rate, peak = measure(device, architecture, batch, steps, precision, args.compile)
        results[precision] = rate
        if cuda:
            torch.cuda.empty_cache()  # the previous model is gone; free its cached blocks
        memory = f", peak GPU memory {peak:.2f} GiB" if peak is not None else ""
        print(f"{precision:>5}: {rate:8.1f} img/s{memory}")
    ratio = results["bf16"] / results["fp32"]
    print(f"train throughput ({device.type}): {results['bf16']:.1f} img/s, bf16/fp32 {ratio:.2f}x")


if __name__ == "__main__":
    main()
