"""The contrastive loss over the global batch of every process.

Under ``torchrun`` each process embeds its own slice of the batch; the image and text
embeddings and the labels of all processes are gathered, and each process scores its own rows
against the whole global batch (open_clip's ``ClipLoss`` with ``local_loss=True,
gather_with_grad=True``). The gather passes gradients back to the slice each process owns
(summed over all processes' losses), so after DistributedDataParallel averages the weights'
gradients, the loss and every gradient equal one process training on the concatenated batch
— results do not change with the number of GPUs.
"""

from __future__ import annotations

import torch
import torch.distributed as dist
import torch.nn.functional as F

from medgrad_desktop.process_rank import ProcessRank
from training.dataset import label_aware_targets

SINGLE_PROCESS = ProcessRank()


class _GatherWithGrad(torch.autograd.Function):
    """All processes' (B, ...) tensors concatenated to (W·B, ...); backward sums the
    gradient over processes and returns this process's slice (equal B on every rank)."""

    @staticmethod
    def forward(ctx, tensor: torch.Tensor, rank: int, world_size: int) -> torch.Tensor:
        parts = [torch.empty_like(tensor) for _ in range(world_size)]
        dist.all_gather(parts, tensor.contiguous())
        ctx.rank, ctx.rows = rank, tensor.shape[0]
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        grad = grad.contiguous()
        dist.all_reduce(grad)  # gloo has no reduce-scatter; the embeddings are small
        start = ctx.rank * ctx.rows
        return grad[start : start + ctx.rows], None, None


def gather_with_grad(tensor: torch.Tensor, info: ProcessRank) -> torch.Tensor:
    """The global batch of ``tensor`` (gradients reach this process's slice)."""
    if not info.active:
        return tensor
    return _GatherWithGrad.apply(tensor, info.rank, info.world_size)


def gather_labels(labels: torch.Tensor, info: ProcessRank) -> torch.Tensor:
    """The labels of the global batch, in rank order (no gradient)."""
    if not info.active:
        return labels
    parts = [torch.empty_like(labels) for _ in range(info.world_size)]
    dist.all_gather(parts, labels.contiguous())
    return torch.cat(parts)


def contrastive_loss(
    image: torch.Tensor,
    text: torch.Tensor,
    scale: torch.Tensor | float,
    labels: torch.Tensor | None,
    info: ProcessRank = SINGLE_PROCESS,
) -> torch.Tensor:
    """Symmetric InfoNCE of this process's B rows against the global batch of W·B.

    ``labels`` given → label-aware soft targets (items of the same class are positives),
    else each row's own pair. The mean over processes of the returned value is the loss of
    the global batch; one process (``info`` inactive) gets exactly that loss.
    """
    all_image = gather_with_grad(image, info)
    all_text = gather_with_grad(text, info)
    image_logits = scale * image @ all_text.T  # (B, W·B)
    text_logits = scale * text @ all_image.T
    if labels is None:
        own = torch.arange(len(image), device=image.device) + info.rank * len(image)
        targets = F.one_hot(own, len(all_image)).to(image.dtype)
    else:
        labels = torch.as_tensor(labels).to(image.device)
        targets = label_aware_targets(labels, gather_labels(labels, info)).to(image.device)
    image_to_text = -(targets * F.log_softmax(image_logits, dim=1)).sum(1).mean()
    text_to_image = -(targets * F.log_softmax(text_logits, dim=1)).sum(1).mean()
    return (image_to_text + text_to_image) / 2


def global_mean(value: torch.Tensor, info: ProcessRank) -> float:
    """The mean of a scalar over all processes (the global batch's loss for logging)."""
    value = value.detach().float().reshape(1)
    if info.active:
        value = value.clone()
        dist.all_reduce(value)
        value /= info.world_size
    return float(value)
