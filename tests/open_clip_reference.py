"""Independent plain-torch references of open_clip checkpoints, and builders that write tiny
random ones as open_clip hub folders (``open_clip_config.json`` + weights + tokenizer files).

Written from the sources: timm ``VisionTransformer`` (``patch_embed.proj``, ``cls_token``,
``pos_embed``, ``blocks.N.{norm1,attn.qkv,attn.proj,norm2,mlp.fc1,mlp.fc2}``, ``norm``; LayerNorm
eps 1e-6; qkv reshaped (B, N, 3, heads, head_dim)); open_clip ``TimmModel`` head
(``head.proj``); transformers ``BertModel`` without pooler and open_clip ``HFTextEncoder``
(attention mask ``ids != pad``, CLS of the last hidden state, MLP projection Linear–GELU–Linear
with (width + embed) // 2 hidden units, no biases); open_clip ``CLIP`` native towers are OpenAI's
(``tests/openai_reference.py``) with ``nn.GELU`` unless ``quick_gelu``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from tests.openai_reference import OpenAIClip

OPENAI_MEAN = [0.48145466, 0.4578275, 0.40821073]
OPENAI_STD = [0.26862954, 0.26130258, 0.27577711]
SPECIALS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]
WORDS = (
    "a an the of with and in on dermoscopic dermoscopy image photo lesion skin melanoma nevus "
    "common atypical blue white veil pigment network dots globules streaks regression areas "
    "asymmetry one two axes colours red light dark brown grey black basal cell carcinoma "
    "benign keratosis vascular dermatofibroma actinic irregular regular , . - ( ) / : ; ' "
)
PIECES = "##s ##ic ##oma ##y ##ed ##al ##ar ##ly ##ing ##ness ##ation mel ##an der ##mo"


def write_vocab(path: Path) -> list[str]:
    """A small BERT WordPiece vocabulary (special tokens first, as BERT's vocab.txt)."""
    tokens = SPECIALS + WORDS.split() + PIECES.split() + list("abcdefghijklmnopqrstuvwxyz")
    tokens += ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"] + ["é", "中"]
    unique = list(dict.fromkeys(tokens))
    path.write_text("\n".join(unique) + "\n", encoding="utf-8")
    return unique


def _normal(generator: torch.Generator | None, *shape: int, std: float = 0.2) -> torch.Tensor:
    """Random normal values; shapes only (meta tensors) when ``generator`` is None."""
    if generator is None:
        return torch.empty(*shape, device="meta")
    return torch.randn(*shape, generator=generator) * std


def _layer_norm(state: dict, key: str, width: int, generator: torch.Generator | None) -> None:
    state[f"{key}.weight"] = 1.0 + _normal(generator, width, std=0.1)
    state[f"{key}.bias"] = _normal(generator, width, std=0.1)


def _linear(state: dict, key: str, out: int, inp: int, g: torch.Generator | None, bias=True):
    state[f"{key}.weight"] = _normal(g, out, inp, std=inp**-0.5)
    if bias:
        state[f"{key}.bias"] = _normal(g, out, std=0.05)


def biomedclip_state(
    seed: int = 0,
    image_size: int = 32,
    patch: int = 8,
    vision_width: int = 128,
    vision_layers: int = 2,
    text_width: int = 128,
    text_layers: int = 2,
    vocab_size: int = 160,
    positions: int = 64,
    embed: int = 48,
    meta: bool = False,
) -> dict[str, torch.Tensor]:
    """Random weights with the exact keys of BiomedCLIP's ``open_clip_pytorch_model.bin``
    (meta tensors, shapes only, when ``meta``)."""
    g = None if meta else torch.Generator().manual_seed(seed)
    state: dict[str, torch.Tensor] = {}
    trunk = "visual.trunk."
    grid = image_size // patch
    state[trunk + "cls_token"] = _normal(g, 1, 1, vision_width)
    state[trunk + "pos_embed"] = _normal(g, 1, grid * grid + 1, vision_width)
    state[trunk + "patch_embed.proj.weight"] = _normal(g, vision_width, 3, patch, patch, std=0.1)
    state[trunk + "patch_embed.proj.bias"] = _normal(g, vision_width, std=0.05)
    for i in range(vision_layers):
        block = f"{trunk}blocks.{i}."
        _layer_norm(state, block + "norm1", vision_width, g)
        _linear(state, block + "attn.qkv", 3 * vision_width, vision_width, g)
        _linear(state, block + "attn.proj", vision_width, vision_width, g)
        _layer_norm(state, block + "norm2", vision_width, g)
        _linear(state, block + "mlp.fc1", 4 * vision_width, vision_width, g)
        _linear(state, block + "mlp.fc2", vision_width, 4 * vision_width, g)
    _layer_norm(state, trunk + "norm", vision_width, g)
    _linear(state, "visual.head.proj", embed, vision_width, g, bias=False)
    bert = "text.transformer."
    state[bert + "embeddings.word_embeddings.weight"] = _normal(g, vocab_size, text_width)
    state[bert + "embeddings.position_embeddings.weight"] = _normal(g, positions, text_width)
    state[bert + "embeddings.token_type_embeddings.weight"] = _normal(g, 2, text_width)
    _layer_norm(state, bert + "embeddings.LayerNorm", text_width, g)
    for i in range(text_layers):
        layer = f"{bert}encoder.layer.{i}."
        for name in ("query", "key", "value"):
            _linear(state, f"{layer}attention.self.{name}", text_width, text_width, g)
        _linear(state, layer + "attention.output.dense", text_width, text_width, g)
        _layer_norm(state, layer + "attention.output.LayerNorm", text_width, g)
        _linear(state, layer + "intermediate.dense", 4 * text_width, text_width, g)
        _linear(state, layer + "output.dense", text_width, 4 * text_width, g)
        _layer_norm(state, layer + "output.LayerNorm", text_width, g)
    hidden = (text_width + embed) // 2
    _linear(state, "text.proj.0", hidden, text_width, g, bias=False)
    _linear(state, "text.proj.2", embed, hidden, g, bias=False)
    state["logit_scale"] = torch.tensor(math.log(1 / 0.07))
    # old transformers versions saved this buffer in BiomedCLIP's checkpoint
    state[bert + "embeddings.position_ids"] = torch.arange(positions).unsqueeze(0)
    return state


def biomedclip_config(image_size: int = 32, context_length: int = 32, embed: int = 48) -> dict:
    """``open_clip_config.json`` as on the BiomedCLIP hub page (sizes of the tiny model)."""
    return {
        "model_cfg": {
            "embed_dim": embed,
            "vision_cfg": {
                "timm_model_name": "vit_base_patch16_224",
                "timm_model_pretrained": False,
                "timm_pool": "",
                "timm_proj": "linear",
                "image_size": image_size,
            },
            "text_cfg": {
                "hf_model_name": "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract",
                "hf_tokenizer_name": "microsoft/BiomedNLP-BiomedBERT-base-uncased-abstract",
                "hf_proj_type": "mlp",
                "hf_pooler_type": "cls_last_hidden_state_pooler",
                "context_length": context_length,
            },
        },
        "preprocess_cfg": {"mean": OPENAI_MEAN, "std": OPENAI_STD},
    }


def write_bert_tokenizer(folder: Path, files: tuple[str, ...] = ("vocab.txt", "tokenizer.json")):
    """BERT tokenizer files as the BiomedCLIP hub has them; tokenizer.json from ``tokenizers``."""
    folder.mkdir(parents=True, exist_ok=True)
    vocab = folder / "vocab.txt"
    write_vocab(vocab)
    if "tokenizer.json" in files:
        from tokenizers import BertWordPieceTokenizer

        BertWordPieceTokenizer(str(vocab), lowercase=True).save(str(folder / "tokenizer.json"))
        config = {
            "do_lower_case": True,
            "model_max_length": 512,
            "tokenizer_class": "BertTokenizer",
        }
        (folder / "tokenizer_config.json").write_text(json.dumps(config))
    if "vocab.txt" not in files:
        vocab.unlink()


def write_biomedclip_folder(folder: Path, seed: int = 0, weights: str = "bin", **sizes) -> Path:
    """A tiny BiomedCLIP-layout hub folder; returns it."""
    folder.mkdir(parents=True, exist_ok=True)
    state = biomedclip_state(seed, **sizes)
    config = biomedclip_config(image_size=sizes.get("image_size", 32))
    (folder / "open_clip_config.json").write_text(json.dumps(config, indent=2))
    if weights == "bin":
        torch.save(state, folder / "open_clip_pytorch_model.bin")
    else:
        from safetensors.torch import save_file

        save_file(
            {k: v.contiguous() for k, v in state.items()}, folder / "open_clip_model.safetensors"
        )
    write_bert_tokenizer(folder)
    return folder


def _attention(q, k, v, heads: int, mask=None):
    batch, tokens, width = q.shape
    split = [t.reshape(batch, -1, heads, width // heads).transpose(1, 2) for t in (q, k, v)]
    scores = split[0] @ split[1].transpose(-1, -2) / math.sqrt(width // heads)
    if mask is not None:
        scores = scores.masked_fill(~mask[:, None, None, :], float("-inf"))
    out = torch.softmax(scores, dim=-1) @ split[2]
    return out.transpose(1, 2).reshape(batch, tokens, width)


def timm_image_embedding(state: dict, pixels: torch.Tensor, heads: int) -> torch.Tensor:
    """timm ViT (class-token pooling) + open_clip linear head, unnormalised (N, D)."""
    p = "visual.trunk."
    weight = state[p + "patch_embed.proj.weight"]
    x = F.conv2d(pixels, weight, state[p + "patch_embed.proj.bias"], stride=weight.shape[-1])
    x = x.flatten(2).transpose(1, 2)
    x = torch.cat([state[p + "cls_token"].expand(x.shape[0], -1, -1), x], dim=1)
    x = x + state[p + "pos_embed"]
    width = x.shape[-1]

    def norm(t, key):
        return F.layer_norm(t, (width,), state[key + ".weight"], state[key + ".bias"], 1e-6)

    def linear(t, key):
        return F.linear(t, state[key + ".weight"], state.get(key + ".bias"))

    i = 0
    while f"{p}blocks.{i}.norm1.weight" in state:
        b = f"{p}blocks.{i}."
        batch, tokens, _ = x.shape
        qkv = linear(norm(x, b + "norm1"), b + "attn.qkv")
        qkv = qkv.reshape(batch, tokens, 3, heads, width // heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        attended = F.scaled_dot_product_attention(q, k, v)  # timm's fused attention
        x = x + linear(attended.transpose(1, 2).reshape(batch, tokens, width), b + "attn.proj")
        h = F.gelu(linear(norm(x, b + "norm2"), b + "mlp.fc1"))
        x = x + linear(h, b + "mlp.fc2")
        i += 1
    x = norm(x, p + "norm")
    return linear(x[:, 0], "visual.head.proj")


def bert_text_embedding(state: dict, ids: torch.Tensor, heads: int, pad_id: int = 0):
    """BERT (no pooler) + CLS last hidden state + open_clip MLP projection, unnormalised."""
    p = "text.transformer."
    width = state[p + "embeddings.word_embeddings.weight"].shape[1]

    def norm(t, key):
        return F.layer_norm(t, (width,), state[key + ".weight"], state[key + ".bias"], 1e-12)

    def linear(t, key):
        return F.linear(t, state[key + ".weight"], state.get(key + ".bias"))

    positions = torch.arange(ids.shape[1])
    x = state[p + "embeddings.word_embeddings.weight"][ids]
    x = x + state[p + "embeddings.position_embeddings.weight"][positions]
    x = x + state[p + "embeddings.token_type_embeddings.weight"][0]
    x = norm(x, p + "embeddings.LayerNorm")
    mask = ids != pad_id
    i = 0
    while f"{p}encoder.layer.{i}.attention.self.query.weight" in state:
        layer = f"{p}encoder.layer.{i}."
        q, k, v = (linear(x, f"{layer}attention.self.{n}") for n in ("query", "key", "value"))
        attended = linear(_attention(q, k, v, heads, mask), layer + "attention.output.dense")
        x = norm(x + attended, layer + "attention.output.LayerNorm")
        hidden = F.gelu(linear(x, layer + "intermediate.dense"))
        x = norm(x + linear(hidden, layer + "output.dense"), layer + "output.LayerNorm")
        i += 1
    return linear(F.gelu(linear(x[:, 0], "text.proj.0")), "text.proj.2")


def native_clip(seed: int = 0, quick_gelu: bool = False, **sizes) -> OpenAIClip:
    """open_clip's native ``CLIP`` (OpenAI's layout), fp32, GELU unless ``quick_gelu``."""
    torch.manual_seed(seed)
    defaults = dict(embed=32, image_size=32, patch=8, vision_width=128, text_width=64)
    model = OpenAIClip(**{**defaults, **sizes}).eval()
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if "ln_" in name:
                parameter.add_(0.1 * torch.randn_like(parameter))
            elif parameter.ndim >= 2 and "embedding" not in name:
                parameter.normal_(0.0, parameter.shape[-1] ** -0.5)
    if not quick_gelu:
        for blocks in (model.visual.transformer.resblocks, model.transformer.resblocks):
            for block in blocks:
                block.mlp.gelu = nn.GELU()
    return model


def native_config(model: OpenAIClip, quick_gelu: bool, mean=OPENAI_MEAN, std=OPENAI_STD) -> dict:
    """``open_clip_config.json`` of an open_clip ViT (``ViT-B-16`` style, names as written)."""
    visual = model.visual
    patch = visual.conv1.kernel_size[0]
    grid = math.isqrt(visual.positional_embedding.shape[0] - 1)
    model_cfg = {
        "embed_dim": model.text_projection.shape[1],
        "vision_cfg": {
            "image_size": patch * grid,
            "layers": len(visual.transformer.resblocks),
            "width": visual.conv1.out_channels,
            "patch_size": patch,
        },
        "text_cfg": {
            "context_length": model.context_length,
            "vocab_size": model.token_embedding.num_embeddings,
            "width": model.token_embedding.embedding_dim,
            "heads": model.token_embedding.embedding_dim // 64,
            "layers": len(model.transformer.resblocks),
        },
    }
    if quick_gelu:
        model_cfg["quick_gelu"] = True
    return {"model_cfg": model_cfg, "preprocess_cfg": {"mean": list(mean), "std": list(std)}}


def write_native_folder(
    folder: Path, model: OpenAIClip, quick_gelu: bool, weights: str = "safetensors"
) -> Path:
    """A DermLIP-style hub folder: config, weights, and the CLIP tokenizer files that
    open_clip's push_to_hf_hub writes beside them."""
    from medgrad_desktop.explain.tokenizer import load_openai_tokenizer

    folder.mkdir(parents=True, exist_ok=True)
    config = native_config(model, quick_gelu)
    (folder / "open_clip_config.json").write_text(json.dumps(config, indent=2))
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    if weights == "safetensors":
        from safetensors.torch import save_file

        save_file(state, folder / "open_clip_model.safetensors")
    else:
        torch.save(state, folder / "open_clip_pytorch_model.bin")
    load_openai_tokenizer().save_pretrained(str(folder))
    return folder


def _minmax(values: torch.Tensor) -> torch.Tensor:
    return (values - values.min()) / (values.max() - values.min())


def tower_reference_maps(bundle, image, texts: torch.Tensor, variant: str, geometry: str):
    """(similarity (K,), {method: (K, gh, gw)}) by plain autograd through the bundle's vision
    tower, one backward per prompt ("model": the model's heads and λ = cos(q_cls, k_i);
    "zhao2024": one head over the full width, λ = cos(out_proj(q_cls), out_proj(k_i)),
    Grad-CAM weights averaged over all tokens)."""
    import numpy as np

    from tests.explain_reference import reference_input

    tower = bundle.vision_tower
    rgb = np.array(reference_input(image, geometry, bundle.image_size, tower.patch_size))
    pixels = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
    mean = torch.tensor(bundle.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(bundle.image_std).view(1, 3, 1, 1)
    with torch.no_grad():
        trunk = tower.trunk((pixels - mean) / std)[0]
    grid = (rgb.shape[0] // tower.patch_size, rgb.shape[1] // tower.patch_size)
    similarity, maps = [], {"gradcam": [], "gradeclip": [], "medgrad": []}
    for text in texts:
        scores = {}
        for heads in (tower.num_heads, 1):
            x = trunk.clone().requires_grad_(True)
            with torch.enable_grad():
                q, k, v = tower.qkv(x)
                o = tower.attention(q, k, v, heads)
                o.retain_grad()
                cosine = tower.embed(tower.block_output(x, o)[:1]) @ text
                cosine.backward()
            scores[heads] = (float(cosine.detach()), x, q, k, v, o.grad[0])
        similarity.append(scores[tower.num_heads][0])
        _, x, q, k, v, w = scores[tower.num_heads if variant == "model" else 1]
        with torch.no_grad():
            if variant == "model":
                lam = _minmax(F.cosine_similarity(q[:1], k[1:], dim=-1))
                cam_w = x.grad[1:].mean(0)
            else:
                lam = _minmax(
                    F.cosine_similarity(tower.out_proj(q[:1]), tower.out_proj(k[1:]), dim=-1)
                )
                cam_w = x.grad.mean(0)
            found = {
                "gradcam": torch.relu(x[1:] @ cam_w),
                "gradeclip": torch.relu((v[1:] * w).sum(-1) * lam),
                "medgrad": torch.relu((v[1:] * w).sum(-1)),
            }
        for name, values in found.items():
            maps[name].append(values.reshape(grid).numpy())
    return np.array(similarity, np.float32), {name: np.stack(v) for name, v in maps.items()}
