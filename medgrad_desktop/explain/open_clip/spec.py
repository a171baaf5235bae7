"""What an open_clip checkpoint is made of, as inferred from its tensors' shapes."""

from __future__ import annotations

from dataclasses import dataclass

NATIVE = "native"  # open_clip's / OpenAI's own ViT or text transformer (OpenAI key names)
TIMM = "timm"  # a timm VisionTransformer trunk with an open_clip projection head
BERT = "bert"  # a Hugging Face BERT text tower (BiomedCLIP's PubMedBERT)

CLIP_LAYOUT = "clip"  # open_clip ``CLIP``: text tower keys at the top level
CUSTOM_TEXT_LAYOUT = "custom_text"  # open_clip ``CustomTextCLIP``: text tower under ``text.``


@dataclass(frozen=True)
class VisionSpec:
    """A ViT image tower: widths, depth, heads, patch and grid, activation, projection."""

    kind: str
    width: int
    layers: int
    heads: int
    patch_size: int
    grid: int
    mlp_width: int
    embed_dim: int
    activation: str = "gelu"  # "gelu" | "quick_gelu" (native only; timm is always GELU)
    eps: float = 1e-5
    head_bias: bool = False  # timm: bias of ``head.proj``

    @property
    def image_size(self) -> int:
        return self.patch_size * self.grid

    def describe(self) -> str:
        family = {NATIVE: "open_clip", TIMM: "timm"}[self.kind]
        return f"{vit_name(self.width, self.layers, self.patch_size)} image tower ({family})"


@dataclass(frozen=True)
class TextSpec:
    """A text tower: native causal transformer or BERT, with its projection and context."""

    kind: str
    width: int
    layers: int
    heads: int
    vocab_size: int
    positions: int
    context_length: int
    mlp_width: int
    embed_dim: int
    activation: str = "gelu"
    eps: float = 1e-5
    projection: str = "linear"  # "linear" | "mlp" (BERT) ; native: a (width, embed) matrix
    type_vocab_size: int = 2  # BERT token types
    pad_token_id: int = 0  # BERT: the attention mask is ``input_ids != pad_token_id``

    def describe(self) -> str:
        name = "BERT" if self.kind == BERT else "transformer"
        return f"{name} text tower"


@dataclass(frozen=True)
class OpenClipSpec:
    """The whole model: towers, state-dict layout and the input normalisation."""

    vision: VisionSpec
    text: TextSpec
    layout: str
    image_mean: tuple[float, float, float]
    image_std: tuple[float, float, float]

    def describe(self) -> str:
        """E.g. ``BiomedCLIP-style open_clip model: ViT-B/16 image tower, BERT text tower,
        256 tokens``."""
        style = "BiomedCLIP-style " if self.vision.kind == TIMM and self.text.kind == BERT else ""
        vision = vit_name(self.vision.width, self.vision.layers, self.vision.patch_size)
        activation = " (QuickGELU)" if self.vision.activation == "quick_gelu" else ""
        return (
            f"{style}open_clip model: {vision} image tower{activation}, "
            f"{self.text.describe()}, {self.text.context_length} tokens"
        )


_VIT_SIZES = {(192, 12): "Ti", (384, 12): "S", (768, 12): "B", (1024, 24): "L", (1280, 32): "H"}


def vit_name(width: int, layers: int, patch: int) -> str:
    """The usual ViT name (``ViT-B/16``) or the raw sizes for uncommon shapes."""
    size = _VIT_SIZES.get((width, layers))
    if size is None:
        return f"ViT ({width} wide, {layers} layers)/{patch}"
    return f"ViT-{size}/{patch}"


IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def normalisation_note(mean, std) -> str:
    """ ", ImageNet mean/std"" (or the values) when a model is not normalised as OpenAI's CLIP."""
    from medgrad_desktop.explain.bundle import CLIP_MEAN, CLIP_STD

    def close(a, b) -> bool:
        return all(abs(float(x) - y) < 1e-4 for x, y in zip(a, b, strict=True))

    if close(mean, CLIP_MEAN) and close(std, CLIP_STD):
        return ""
    if close(mean, IMAGENET_MEAN) and close(std, IMAGENET_STD):
        return ", ImageNet mean/std"
    values = ", ".join(f"{x:.3f}" for x in (*mean, *std))
    return f", mean/std {values}"


def describe_hf_clip(config, mean, std) -> str:
    """What a transformers ``CLIPConfig`` holds, e.g. ``Hugging Face CLIP model: ViT-L/14
    image tower, transformer text tower, 77 tokens, ImageNet mean/std``."""
    vision, text = config.vision_config, config.text_config
    name = vit_name(vision.hidden_size, vision.num_hidden_layers, vision.patch_size)
    tokens = min(77, int(text.max_position_embeddings))
    return (
        f"Hugging Face CLIP model: {name} image tower, transformer text tower, {tokens} tokens"
        + normalisation_note(mean, std)
    )
