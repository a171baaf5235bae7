"""open_clip's ``HFTextEncoder`` over a BERT (BiomedCLIP's PubMedBERT): ``transformer`` (a
transformers ``BertModel`` without its pooling layer), CLS last-hidden-state pooling, and a
linear or MLP ``proj``; the attention mask comes from the pad id."""

from __future__ import annotations

import torch
from torch import nn

from medgrad_desktop.explain.open_clip.spec import TextSpec


def bert_config(spec: TextSpec):
    """The ``BertConfig`` of ``spec`` (BERT's own defaults for what shapes cannot tell)."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=spec.vocab_size,
        hidden_size=spec.width,
        num_hidden_layers=spec.layers,
        num_attention_heads=spec.heads,
        intermediate_size=spec.mlp_width,
        max_position_embeddings=spec.positions,
        type_vocab_size=spec.type_vocab_size,
        pad_token_id=spec.pad_token_id,
        layer_norm_eps=spec.eps,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )


def projection(kind: str, width: int, embed_dim: int) -> nn.Module:
    """``HFTextEncoder.proj``: linear, or Linear–GELU–Linear with (width + embed) // 2 hidden."""
    if kind == "linear":
        return nn.Linear(width, embed_dim, bias=False)
    if kind == "mlp":
        hidden = (width + embed_dim) // 2
        return nn.Sequential(
            nn.Linear(width, hidden, bias=False),
            nn.GELU(),
            nn.Linear(hidden, embed_dim, bias=False),
        )
    return nn.Identity()


class BertTextTower(nn.Module):
    """BERT text tower; ``forward(input_ids)`` gives unnormalised embeddings (N, D)."""

    def __init__(self, spec: TextSpec) -> None:
        super().__init__()
        from transformers import BertModel

        self.spec = spec
        self.transformer = BertModel(bert_config(spec), add_pooling_layer=False)
        self.proj = projection(spec.projection, spec.width, spec.embed_dim)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor | None = None):
        mask = (input_ids != self.spec.pad_token_id).long()
        hidden = self.transformer(input_ids=input_ids, attention_mask=mask).last_hidden_state
        return self.proj(hidden[:, 0])
