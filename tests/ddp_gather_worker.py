"""One rank of the two-process gather test (``tests/unit/test_training_gather.py``).

Run by torchrun: each rank embeds its slice of the global batch with a tiny CLIP wrapped in
DistributedDataParallel, takes the contrastive loss over the gathered global batch, and saves
the loss and the weights' gradients (after DDP averaged them) to ``OUT/rank<r>.pt``.
"""

from __future__ import annotations

import sys

import torch
import torch.distributed as dist

from tests.tiny_models import tiny_clip_config

GLOBAL_BATCH = 8
LABELS = torch.tensor([0, 1, 0, 2, 1, 1, 0, 2])  # classes shared across the ranks' halves


def build_model():
    """The same tiny CLIP on every process (and in the single-process reference)."""
    from transformers import CLIPModel

    from training.loop import ContrastiveModel

    torch.manual_seed(0)
    clip = CLIPModel(tiny_clip_config(image_size=32, patch_size=16, vocab_size=1000))
    with torch.no_grad():
        clip.logit_scale.fill_(2.0)
    return ContrastiveModel(clip).train()


def global_batch():
    """Pixels, token ids, attention mask of the whole batch, drawn from a fixed seed."""
    generator = torch.Generator().manual_seed(1)
    pixels = torch.randn(GLOBAL_BATCH, 3, 32, 32, generator=generator)
    ids = torch.randint(1, 997, (GLOBAL_BATCH, 7), generator=generator)
    ids[:, 0], ids[:, -1] = 998, 999  # start and end tokens as the tokenizer puts them
    return pixels, ids, torch.ones_like(ids)


def gradients(module, loss) -> dict[str, torch.Tensor]:
    module.zero_grad(set_to_none=True)
    loss.backward()
    return {n: p.grad.detach().clone() for n, p in module.named_parameters() if p.grad is not None}


def main(out: str) -> None:
    from training.contrastive import contrastive_loss, global_mean
    from training.distributed import init_distributed

    info = init_distributed("cpu")
    module = build_model()
    ddp = torch.nn.parallel.DistributedDataParallel(module)
    rows = slice(info.rank * GLOBAL_BATCH // 2, (info.rank + 1) * GLOBAL_BATCH // 2)
    pixels, ids, mask = (t[rows] for t in global_batch())
    result = {}
    for name, labels in (("label_aware", LABELS[rows]), ("diagonal", None)):
        image, text, scale = ddp(pixels, ids, mask)
        loss = contrastive_loss(image, text, scale, labels, info)
        result[name] = {"loss": global_mean(loss, info), "grads": gradients(module, loss)}
    torch.save(result, f"{out}/rank{info.rank}.pt")
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1])
