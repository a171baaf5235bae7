"""Odd and hostile image files become RGB arrays or plain ``ImageLoadError``s."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from medgrad_desktop.errors import ImageLoadError
from medgrad_desktop.explain.images import (
    as_rgb_array,
    image_content_hash,
    is_image_file,
    load_image,
)


def _save(image: Image.Image, path, **kwargs):
    image.save(path, **kwargs)
    return path


def test_png_roundtrip(tmp_path):
    rgb = np.random.default_rng(0).integers(0, 256, (30, 40, 3), dtype=np.uint8)
    path = _save(Image.fromarray(rgb), tmp_path / "a.png")
    np.testing.assert_array_equal(load_image(path), rgb)


@pytest.mark.parametrize("content", [b"", b"not an image at all", b"\x89PNG\r\n\x1a\n\x00\x00"])
def test_corrupt_and_zero_byte_files(tmp_path, content):
    path = tmp_path / "broken.jpg"
    path.write_bytes(content)
    with pytest.raises(ImageLoadError) as info:
        load_image(path)
    assert "broken.jpg" in str(info.value)


def test_truncated_jpeg(tmp_path):
    buffer = io.BytesIO()
    rgb = np.random.default_rng(1).integers(0, 256, (200, 200, 3), dtype=np.uint8)
    Image.fromarray(rgb).save(buffer, format="JPEG")
    path = tmp_path / "cut.jpg"
    path.write_bytes(buffer.getvalue()[: len(buffer.getvalue()) // 2])
    with pytest.raises(ImageLoadError, match="damaged or incomplete"):
        load_image(path)


def test_misnamed_png_with_jpg_suffix_still_loads(tmp_path):
    rgb = np.zeros((8, 9, 3), np.uint8)
    rgb[..., 1] = 200
    path = tmp_path / "really_png.jpg"
    Image.fromarray(rgb).save(path, format="PNG")
    np.testing.assert_array_equal(load_image(path), rgb)


def test_missing_file(tmp_path):
    with pytest.raises(ImageLoadError, match="no longer exists"):
        load_image(tmp_path / "gone.png")


def test_decompression_bomb_refused_before_decoding(tmp_path):
    path = _save(Image.new("L", (3000, 3000)), tmp_path / "bomb.png")
    with pytest.raises(ImageLoadError, match="too large"):
        load_image(path, max_pixels=1_000_000)
    with pytest.raises(ImageLoadError, match="too large"):
        Image.MAX_IMAGE_PIXELS, saved = 1_000_000, Image.MAX_IMAGE_PIXELS
        try:
            load_image(path, max_pixels=10**9)
        finally:
            Image.MAX_IMAGE_PIXELS = saved


def test_exif_rotation_is_applied(tmp_path):
    rgb = np.zeros((10, 20, 3), np.uint8)
    rgb[:, :10] = 255  # white left half
    image = Image.fromarray(rgb)
    exif = image.getexif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    path = tmp_path / "rotated.jpg"
    image.save(path, exif=exif, quality=100)
    loaded = load_image(path)
    assert loaded.shape == (20, 10, 3)
    assert loaded[:10].mean() > 200 and loaded[10:].mean() < 50  # left half is now on top


def test_sixteen_bit_grey_scaled_to_eight_bit(tmp_path):
    values = np.array([[0, 65535], [32768, 1000]], dtype=np.uint16)
    path = _save(Image.fromarray(values), tmp_path / "deep.png")
    loaded = load_image(path)
    assert loaded.shape == (2, 2, 3)
    assert loaded[0, 0, 0] == 0 and loaded[0, 1, 0] == 255 and loaded[1, 0, 0] == 128


def test_cmyk_palette_and_alpha(tmp_path):
    cmyk = _save(Image.new("CMYK", (5, 5), (0, 255, 255, 0)), tmp_path / "cmyk.jpg")
    red = load_image(cmyk)
    assert red[..., 0].mean() > 200 and red[..., 1].mean() < 60
    palette = Image.new("P", (4, 4))
    palette.putpalette([0, 0, 255] + [0, 0, 0] * 255)
    assert (load_image(_save(palette, tmp_path / "pal.png"))[..., 2] == 255).all()
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:2, :, 3] = 255  # top half opaque red, bottom transparent → white
    loaded = load_image(_save(Image.fromarray(rgba, "RGBA"), tmp_path / "alpha.png"))
    assert tuple(loaded[0, 0]) == (255, 0, 0) and tuple(loaded[3, 0]) == (255, 255, 255)


def test_thumbnail_decoding_and_helpers(tmp_path):
    rgb = np.random.default_rng(2).integers(0, 256, (300, 500, 3), dtype=np.uint8)
    path = _save(Image.fromarray(rgb), tmp_path / "big.jpg")
    assert max(load_image(path, max_side=96).shape[:2]) <= 96
    assert is_image_file(path) and not is_image_file(tmp_path / "notes.txt")
    assert image_content_hash(rgb) == image_content_hash(rgb.copy())
    assert image_content_hash(rgb) != image_content_hash(rgb[::-1])
    with pytest.raises(ImageLoadError):
        as_rgb_array(np.zeros((4, 4, 3), np.float32))
