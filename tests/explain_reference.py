"""An independent plain-autograd reference of the maps, written from the definitions (DESIGN.md
"The science"; the Grad-ECLIP authors' ``generate_emap.py`` for ``zhao2024``): one forward and
one backward per prompt, on transformers' own CLIP modules, with forward hooks ("model") or the
last block written out by hand with ONE attention head ("zhao2024"). It shares no code with
``medgrad_desktop.explain`` except loading; positional embeddings are interpolated by
transformers' ``interpolate_pos_encoding``; geometry follows the definitions directly."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from tests.tiny_models import transformers_clip


def reference_input(image: np.ndarray, geometry: str, side: int, patch: int) -> np.ndarray:
    """The model input from the geometry definitions (bicubic resizes with Pillow)."""
    pil = Image.fromarray(image)
    w, h = pil.size
    if geometry == "square":
        return np.asarray(pil.resize((side, side), Image.Resampling.BICUBIC))
    if geometry == "aspect":
        if h <= w:
            h, w = side, round(side * w / h)
        else:
            h, w = round(side * h / w), side
    elif min(w, h) > 640:  # generate_emap.py: scale = min(w, h) / 640; int(h / scale)
        scale = min(w, h) / 640
        h, w = int(h / scale), int(w / scale)
        pil = pil.resize((w, h), Image.Resampling.BICUBIC)
    nh, nw = int(h / patch + 0.5) * patch, int(w / patch + 0.5) * patch
    if pil.size != (nw, nh):
        pil = pil.resize((nw, nh), Image.Resampling.BICUBIC)
    return np.asarray(pil)


def _pixels(bundle, rgb: np.ndarray) -> torch.Tensor:
    tensor = torch.from_numpy(np.array(rgb)).permute(2, 0, 1)[None].float() / 255
    mean = torch.tensor(bundle.image_mean).view(1, 3, 1, 1)
    std = torch.tensor(bundle.image_std).view(1, 3, 1, 1)
    return (tensor - mean) / std


def _minmax(values: torch.Tensor) -> torch.Tensor:
    return (values - values.min()) / (values.max() - values.min())


def _model_variant(model, pixels, text):
    """Hooks on the real forward: x (block input), q, k, v, o (input of out_proj)."""
    layer = model.vision_model.encoder.layers[-1]
    attention = layer.self_attn
    store = {}

    def keep_input(name):
        def hook(_module, args):
            args[0].retain_grad()
            store[name] = args[0]

        return hook

    def keep_output(name):
        def hook(_module, _args, output):
            store[name] = output

        return hook

    handles = [
        layer.register_forward_pre_hook(keep_input("x")),
        attention.out_proj.register_forward_pre_hook(keep_input("o")),
        attention.q_proj.register_forward_hook(keep_output("q")),
        attention.k_proj.register_forward_hook(keep_output("k")),
        attention.v_proj.register_forward_hook(keep_output("v")),
    ]
    try:
        with torch.enable_grad():
            out = model.vision_model(pixel_values=pixels, interpolate_pos_encoding=True)
            embedding = model.visual_projection(out.pooler_output)[0]
            similarity = F.cosine_similarity(embedding, text, dim=0)
            model.zero_grad(set_to_none=True)
            similarity.backward()
    finally:
        for handle in handles:
            handle.remove()
    x, o = store["x"][0], store["o"]
    q, k, v = store["q"][0], store["k"][0], store["v"][0]
    w = o.grad[0, 0]
    lam = _minmax(F.cosine_similarity(q[:1], k[1:], dim=-1))
    cam_w = store["x"].grad[0, 1:].mean(0)
    return float(similarity.detach()), {
        "gradcam": torch.relu(x[1:] @ cam_w),
        "gradeclip": torch.relu((v[1:] * w).sum(-1) * lam),
        "medgrad": torch.relu((v[1:] * w).sum(-1)),
    }


def _zhao_variant(model, pixels, text):
    """generate_emap.py's clip_encode_dense + grad_eclip/grad_cam, in transformers' names."""
    vision = model.vision_model
    with torch.no_grad():
        hidden = vision(
            pixel_values=pixels, interpolate_pos_encoding=True, output_hidden_states=True
        )
    x_in = hidden.hidden_states[-2][0].detach().requires_grad_(True)  # (T, C) into the last block
    block = vision.encoder.layers[-1]
    attn = block.self_attn
    with torch.enable_grad():
        x_before = block.layer_norm1(x_in)
        q, k, v = attn.q_proj(x_before), attn.k_proj(x_before), attn.v_proj(x_before)
        scale = float(q.shape[-1]) ** -0.5
        weights = torch.softmax((q * scale) @ k.T, dim=-1)
        attn_output = weights @ v
        attn_output.retain_grad()
        x = attn.out_proj(attn_output) + x_in
        x_out = x + block.mlp(block.layer_norm2(x))
        embedding = model.visual_projection(vision.post_layernorm(x_out))[0]
        cosine = F.normalize(embedding, dim=-1) @ text
        model.zero_grad(set_to_none=True)
        cosine.backward()
    with torch.no_grad():
        q_out, k_out = attn.out_proj(q), attn.out_proj(k)
        lam = _minmax((F.normalize(q_out[:1], dim=-1) * F.normalize(k_out[1:], dim=-1)).sum(-1))
        grad_cls = attn_output.grad[:1]
        cam_w = x_in.grad.mean(0, keepdim=True)
        return {
            "gradcam": torch.relu((cam_w * x_in[1:]).sum(-1)),
            "gradeclip": torch.relu((grad_cls * v[1:] * lam[:, None]).sum(-1)),
            "medgrad": torch.relu((grad_cls * v[1:]).sum(-1)),
        }


def reference_maps(bundle, image: np.ndarray, texts: torch.Tensor, variant: str, geometry: str):
    """(similarity (K,), probability (K,), {method: (K, gh, gw)}) by one backward per prompt,
    on transformers' own ``CLIPModel`` of the bundle's folder."""
    model = transformers_clip(bundle.source)
    patch = int(model.config.vision_config.patch_size)
    rgb = reference_input(image, geometry, bundle.image_size, patch)
    pixels = _pixels(bundle, rgb)
    gh, gw = rgb.shape[0] // patch, rgb.shape[1] // patch
    similarity, maps = [], {"gradcam": [], "gradeclip": [], "medgrad": []}
    for text in texts:
        s, model_maps = _model_variant(model, pixels, text)
        chosen = model_maps if variant == "model" else _zhao_variant(model, pixels, text)
        similarity.append(s)
        for name, scores in chosen.items():
            maps[name].append(scores.detach().reshape(gh, gw).numpy())
    similarity = np.array(similarity, np.float32)
    logits = torch.from_numpy(similarity) * model.logit_scale.exp().item()
    probability = torch.softmax(logits, 0).numpy()
    return similarity, probability, {name: np.stack(v) for name, v in maps.items()}
