"""Training-step throughput: fp32 vs bf16 autocast, one contrastive CLIP step as ``fit`` runs it
(label-aware symmetric InfoNCE, AdamW fused on CUDA, SDPA attention, gradient clipping,
``torch.compile`` on CUDA).

CUDA: ViT-B/16 CLIP (random weights) at batch 64 and 256, peak GPU memory reported. CPU: the
demo model's small architecture at input 224 and batch 16 (ViT-B/16 takes minutes per step on
a laptop CPU; ``--arch vit-b16`` runs it anyway).

    python tests/benchmarks/bench_train.py [--device cpu|cuda] [--batch 64,256] [--steps 20]
        [--arch vit-b16|small] [--compile auto|on|off]

Last line: ``train throughput (<device>): <bf16 img/s> img/s at batch <b>, ... ; bf16/fp32
<ratio>x at batch <largest b>``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from training.config import TrainConfig
from training.contrastive import contrastive_loss
from training.loop import ContrastiveModel, autocast_factory, compile_wanted, make_optimizer

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
    labels = (torch.arange(batch) % 3).to(device)

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


ARCHITECTURES = {"vit-b16": ("ViT-B/16 CLIP", VIT_B16), "small": ("small CLIP (demo)", SMALL)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--device", choices=("cpu", "cuda"), default="cuda" if torch.cuda.is_available() else "cpu"
    )
    parser.add_argument("--batch", default=None, help="batch sizes: 64,256 on CUDA, 16 on CPU")
    parser.add_argument("--steps", type=int, default=None, help="20 on CUDA, 3 on CPU")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads")
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default=None)
    parser.add_argument("--compile", choices=("auto", "on", "off"), default="auto")
    args = parser.parse_args()
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    if not cuda:
        torch.set_num_threads(args.threads)
    name, architecture = ARCHITECTURES[args.arch or ("vit-b16" if cuda else "small")]
    batches = [int(b) for b in (args.batch or ("64,256" if cuda else "16")).split(",")]
    steps = args.steps or (20 if cuda else 3)
    compiled = compile_wanted(device, args.compile)
    print(f"{name}, input 224, {steps} timed steps on {device}, torch.compile {compiled}")
    rates = {}
    for batch in batches:
        for precision in ("fp32", "bf16"):
            rate, peak = measure(device, architecture, batch, steps, precision, compiled)
            rates[batch, precision] = rate
            if cuda:
                torch.cuda.empty_cache()  # the previous model is gone; free its cached blocks
            memory = f", peak GPU memory {peak:.2f} GiB" if peak is not None else ""
            print(f"batch {batch:4d} {precision:>5}: {rate:8.1f} img/s{memory}")
    largest = batches[-1]
    ratio = rates[largest, "bf16"] / rates[largest, "fp32"]
    figures = ", ".join(f"{rates[b, 'bf16']:.1f} img/s at batch {b}" for b in batches)
    print(f"train throughput ({device.type}): {figures}; bf16/fp32 {ratio:.2f}x at batch {largest}")


if __name__ == "__main__":
    main()
