"""``OpenClipModel``: an open_clip CLIP / CustomTextCLIP built from an ``OpenClipSpec`` in
torch and transformers modules, whose state dict is the checkpoint's own layout."""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from medgrad_desktop.explain.open_clip.bert_text import BertTextTower
from medgrad_desktop.explain.open_clip.native import NativeTextTransformer, NativeVisionTransformer
from medgrad_desktop.explain.open_clip.spec import BERT, CLIP_LAYOUT, NATIVE, OpenClipSpec
from medgrad_desktop.explain.open_clip.timm_vit import TimmVisionTower

# Buffers some open_clip / transformers versions saved; they carry no learned weights.
IGNORED_KEYS = ("attn_mask", "position_ids", "token_type_ids")
_TEXT_PREFIX = "text."


def is_ignored_key(key: str) -> bool:
    return key.rsplit(".", 1)[-1] in IGNORED_KEYS


class OpenClipModel(nn.Module):
    """Image tower ``visual``, text tower ``text`` and the temperature ``logit_scale``."""

    def __init__(self, spec: OpenClipSpec) -> None:
        super().__init__()
        self.spec = spec
        vision = NativeVisionTransformer if spec.vision.kind == NATIVE else TimmVisionTower
        self.visual = vision(spec.vision)
        self.text = (
            BertTextTower(spec.text) if spec.text.kind == BERT else NativeTextTransformer(spec.text)
        )
        self.logit_scale = nn.Parameter(torch.zeros([]))

    def encode_image(self, pixels: torch.Tensor) -> torch.Tensor:
        """Image embeddings (N, D), unnormalised."""
        return self.visual(pixels)

    def encode_text(
        self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Text embeddings (N, D), unnormalised."""
        return self.text(input_ids, attention_mask)

    def randomisation_stages(self) -> list[tuple[str, list[nn.Module | nn.Parameter]]]:
        """Image-tower modules from the top (head, blocks last→first, embeddings), for the
        cascading-randomisation sanity check."""
        visual = self.visual
        if self.spec.vision.kind == NATIVE:
            head, embeddings = [visual.ln_post], [visual.conv1, visual.ln_pre]
            loose = [visual.proj, visual.class_embedding, visual.positional_embedding]
        else:
            head, embeddings = [visual.trunk.norm, visual.head], [visual.trunk.patch_embed]
            loose = [visual.trunk.cls_token, visual.trunk.pos_embed]
        blocks = list(visual.blocks)
        stages = [("projection", [*head, *loose[:1]])]
        for index in range(len(blocks) - 1, -1, -1):
            stages.append((f"layer {index + 1}", [blocks[index]]))
        stages.append(("embeddings", [*embeddings, *loose[1:]]))
        return stages

    def checkpoint_key(self, key: str) -> str:
        """Our parameter name → the checkpoint's (CLIP layout keeps the text tower at the top)."""
        if self.spec.layout == CLIP_LAYOUT and key.startswith(_TEXT_PREFIX):
            return key[len(_TEXT_PREFIX) :]
        return key

    def module_key(self, key: str) -> str:
        """The checkpoint's key → our parameter name."""
        if self.spec.layout == CLIP_LAYOUT and not key.startswith(("visual.", "logit_")):
            return _TEXT_PREFIX + key
        return key

    def open_clip_state_dict(self) -> dict[str, torch.Tensor]:
        """The weights under open_clip's own key names (what open_clip saves and loads)."""
        return {self.checkpoint_key(k): v for k, v in self.state_dict().items()}

    def expected_shapes(self) -> dict[str, tuple[int, ...]]:
        return {k: tuple(v.shape) for k, v in self.open_clip_state_dict().items()}

    def load_open_clip_state_dict(self, state: Mapping[str, torch.Tensor]) -> None:
        """Strict load of checkpoint weights (assigned, not copied); ``check_state_dict``
        must have accepted them."""
        own = {self.module_key(k): v for k, v in state.items() if not is_ignored_key(k)}
        self.load_state_dict(own, strict=True, assign=True)


def check_state_dict(
    model: OpenClipModel, state: Mapping[str, torch.Tensor]
) -> tuple[list[str], list[str], list[str]]:
    """(missing, unexpected, wrong-shape) checkpoint keys against ``model``'s layout."""
    expected = model.expected_shapes()
    present = {k: tuple(v.shape) for k, v in state.items() if not is_ignored_key(k)}
    missing = [k for k in expected if k not in present]
    unexpected = [k for k in present if k not in expected]
    wrong = [
        f"'{k}' {present[k]} (expected {expected[k]})"
        for k in expected
        if k in present and present[k] != expected[k]
    ]
    return missing, unexpected, wrong


def build_on_meta(spec: OpenClipSpec) -> OpenClipModel:
    """The model without memory or random init (weights are assigned by the load)."""
    with torch.device("meta"):
        return OpenClipModel(spec)


def materialise_buffers(model: OpenClipModel) -> None:
    """Give the non-saved buffers (BERT's position and token-type ids) real CPU memory."""
    for module in model.modules():
        for name, buffer in list(module.named_buffers(recurse=False)):
            if buffer.is_meta:
                length = buffer.shape[-1]
                ids = torch.arange(length) if name == "position_ids" else torch.zeros(length)
                module.register_buffer(
                    name, ids.long().expand(buffer.shape).clone(), persistent=False
                )
