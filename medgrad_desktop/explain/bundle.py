"""``ModelBundle``: a loaded CLIP model with its tokenizer and preprocessing."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from medgrad_desktop.errors import PromptSetError
from medgrad_desktop.explain.finite import require_finite
from medgrad_desktop.explain.images import as_rgb_array, resize_whole

CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
CONTEXT_LENGTH = 77

ImageInput = np.ndarray | Image.Image


@dataclass
class ModelBundle:
    """A CLIP model ready for inference: ``model`` in eval mode (a ``TorchClip`` for Hugging
    Face folders, transformers' ``CLIPModel`` for OpenAI-format files, an ``OpenClipModel`` for
    open_clip folders), its ``tokenizer``, the input side ``image_size``, normalisation,
    ``device`` and ``dtype``, and ``model_id`` (a short content hash of the weights)."""

    model: Any
    tokenizer: Any
    device: torch.device
    dtype: torch.dtype
    model_id: str
    image_size: int
    image_mean: tuple[float, float, float] = CLIP_MEAN
    image_std: tuple[float, float, float] = CLIP_STD
    source: str = ""
    name: str = ""
    description: str = ""  # what was found, e.g. "BiomedCLIP-style open_clip model: …"
    vision: Any = field(default=None, repr=False)
    text: Any = field(default=None, repr=False)
    _text_cache: dict[tuple[str, ...], torch.Tensor] = field(default_factory=dict, repr=False)

    def with_model(self, model) -> ModelBundle:
        """A copy of this bundle around another ``model`` (e.g. a randomised copy), with the
        towers and the text cache rebuilt from it rather than shared with this bundle."""
        return dataclasses.replace(self, model=model, vision=None, text=None, _text_cache={})

    @property
    def vision_tower(self):
        """The ``VisionTower`` the attribution methods use (the model family's adapter)."""
        if self.vision is None:
            from medgrad_desktop.explain.towers import vision_tower_for

            self.vision = vision_tower_for(self.model)
        return self.vision

    @property
    def text_tower(self):
        """The ``TextTower`` that turns prompts into embeddings."""
        if self.text is None:
            from medgrad_desktop.explain.towers import text_tower_for

            self.text = text_tower_for(self.model, self.tokenizer)
        return self.text

    @property
    def patch_size(self) -> int:
        return int(self.vision_tower.patch_size)

    @property
    def grid_side(self) -> int:
        return self.image_size // self.patch_size

    @property
    def logit_scale(self) -> float:
        return float(self.model.logit_scale.detach().exp().item())

    def resize_for_model(self, image: ImageInput, geometry: str = "square") -> np.ndarray:
        """The whole image, RGB, resized (bicubic, never cropped) to its model-input shape:
        S×S for "square", else as ``explain.geometry`` says (unchanged if already so)."""
        rgb = as_rgb_array(image)
        if geometry == "square":
            return resize_whole(rgb, self.image_size)
        from medgrad_desktop.explain.geometry import resize_for_geometry

        return resize_for_geometry(rgb, geometry, self.image_size, self.patch_size)

    def normalise(self, arrays: Sequence[np.ndarray]) -> torch.Tensor:
        """Model-input RGB uint8 arrays of one shape → normalised tensor (N, 3, H, W)."""
        stack = np.stack(arrays)
        tensor = torch.from_numpy(stack).to(self.device).permute(0, 3, 1, 2).float().div_(255.0)
        mean = torch.tensor(self.image_mean, device=self.device).view(1, 3, 1, 1)
        std = torch.tensor(self.image_std, device=self.device).view(1, 3, 1, 1)
        return ((tensor - mean) / std).to(self.dtype)

    def preprocess(
        self, images: ImageInput | Sequence[ImageInput], geometry: str = "square"
    ) -> torch.Tensor:
        """PIL images or H×W×3 uint8 arrays → normalised float tensor (N, 3, H, W); (S, S) for
        the default "square" geometry (other geometries need images of one shape)."""
        if isinstance(images, (np.ndarray, Image.Image)):
            images = [images]
        arrays = [self.resize_for_model(image, geometry) for image in images]
        if len({array.shape for array in arrays}) > 1:
            raise ValueError("Images of different shapes cannot be stacked; explain them apart.")
        return self.normalise(arrays)

    @torch.no_grad()
    def encode_image(
        self, images: ImageInput | Sequence[ImageInput] | torch.Tensor
    ) -> torch.Tensor:
        """Image embeddings (N, D), float32, L2-normalised."""
        pixels = images if isinstance(images, torch.Tensor) else self.preprocess(images)
        tower = self.vision_tower
        x = tower.trunk(pixels.to(self.device, self.dtype))
        hidden = tower.block_output(x, tower.attention(*tower.qkv(x), tower.num_heads))
        embeds = tower.embed(hidden[:, : tower.prefix_tokens]).float()
        require_finite("image embeddings", embeds)
        return embeds

    def tokenize(self, texts: Sequence[str]) -> dict[str, torch.Tensor]:
        """Token ids and attention mask, padded, truncated to 77 tokens with the end token kept."""
        texts = [str(text) for text in texts]
        if not texts:
            raise PromptSetError("There are no prompts to compare the image with.")
        if any(not text.strip() for text in texts):
            raise PromptSetError("A prompt is empty; please type some text for every prompt.")
        tokens = self.text_tower.tokenize(texts)
        return {key: value.to(self.device) for key, value in tokens.items()}

    @torch.no_grad()
    def encode_text(self, texts: Sequence[str]) -> torch.Tensor:
        """Text embeddings (K, D), float32, L2-normalised; cached per prompt list."""
        key = tuple(str(text) for text in texts)
        cached = self._text_cache.get(key)
        if cached is not None:
            return cached
        embeds = self.text_tower.encode(self.tokenize(key))
        require_finite("text embeddings", embeds)
        result = embeds
        if len(self._text_cache) > 64:
            self._text_cache.clear()
        self._text_cache[key] = result
        return result

    def encode_prompts(self, prompts: Sequence[Sequence[str] | str]) -> torch.Tensor:
        """Embeddings (K, D) of K prompts, each one text or an ensemble of synonyms whose
        normalised embeddings are averaged and re-normalised."""
        groups = [[p] if isinstance(p, str) else list(p) for p in prompts]
        if not groups or any(not group for group in groups):
            raise PromptSetError("There are no prompts to compare the image with.")
        flat = self.encode_text([text for group in groups for text in group])
        sizes = [len(group) for group in groups]
        means = torch.stack([chunk.mean(0) for chunk in torch.split(flat, sizes)])
        return torch.nn.functional.normalize(means, dim=-1)

    def describe(self) -> str:
        """Short human-readable description: name, id and device."""
        label = self.name or Path(self.source).name or "model"
        return f"{label} {self.model_id[:6]} on {self.device.type.upper()}"
