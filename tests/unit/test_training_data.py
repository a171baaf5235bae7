"""Loading training data: manifest and seed formats, and each kind of bad input."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from medgrad_desktop.errors import DataError
from training.data import Sample, label_from_text, load_samples, require_class_members

TEXTS = [
    "melanoma. asymmetry in two axes; blue-whitish veil present; colours: black, blue-grey.",
    "Common Nevus; typical pigment network",
    "atypical nevus. irregular dots/globules; colours: light brown, dark brown.",
]


def _image(path, value=100):
    Image.fromarray(np.full((8, 8, 3), value, np.uint8)).save(path)
    return path


def _seed_folder(root, texts=TEXTS, header="description", encoding="utf-8"):
    images = root / "images"
    images.mkdir()
    for i in range(3):
        _image(images / f"IMD{i:03d}.png", 50 * i)
    lines = ([header] if header else []) + [f'"{t}"' for t in texts]
    (root / "descriptions.csv").write_bytes("\n".join(lines).encode(encoding))
    return images


def _manifest(root, rows, header="image,text,label,group,split,masks"):
    (root / "manifest.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return root / "manifest.csv"


def test_label_from_text():
    assert label_from_text("Melanoma. asymmetry") == "melanoma"
    assert label_from_text("common nevus; typical network") == "common nevus"
    assert label_from_text("no punctuation") == "no punctuation"


def test_seed_format_pairs_descriptions_in_sorted_file_order(tmp_path):
    images = _seed_folder(tmp_path)
    report = load_samples(images)  # descriptions.csv found in the parent folder
    assert report.source_format == "seed" and report.skipped == []
    assert [s.image.name for s in report.samples] == ["IMD000.png", "IMD001.png", "IMD002.png"]
    assert [s.text for s in report.samples] == TEXTS
    assert [s.label for s in report.samples] == ["melanoma", "common nevus", "atypical nevus"]
    assert [s.group for s in report.samples] == ["IMD000", "IMD001", "IMD002"]
    assert all(s.split is None and s.masks == {} for s in report.samples)
    explicit = load_samples(images, descriptions=tmp_path / "descriptions.csv")
    assert explicit.samples == report.samples


def test_seed_format_accepts_a_byte_order_mark(tmp_path):
    images = _seed_folder(tmp_path, encoding="utf-8-sig")
    assert load_samples(images).samples[0].text == TEXTS[0]


def test_manifest_folder_and_file(tmp_path):
    _image(tmp_path / "a.png")
    _image(tmp_path / "b.png")
    _image(tmp_path / "a_lesion.png", 255)
    _manifest(
        tmp_path,
        [
            "a.png,melanoma. veil,,p1,validation,a_lesion.png",
            "b.png,common nevus. typical network,Common Nevus,,train,",
        ],
    )
    for source in (tmp_path, tmp_path / "manifest.csv"):
        report = load_samples(source)
        a, b = report.samples
        assert report.source_format == "manifest"
        assert (a.label, a.group, a.split) == ("melanoma", "p1", "val")
        assert a.masks == {"lesion": (tmp_path / "a_lesion.png").resolve()}
        assert (b.label, b.group, b.split, b.masks) == ("common nevus", "b", "train", {})
        assert isinstance(a, Sample) and a.image == (tmp_path / "a.png").resolve()


def test_count_mismatch_names_both_counts(tmp_path):
    images = _seed_folder(tmp_path, texts=TEXTS[:2])
    with pytest.raises(DataError, match=r"3 images but descriptions\.csv has 2 descriptions"):
        load_samples(images)


def test_missing_and_unreadable_images_are_skipped_and_listed(tmp_path):
    _image(tmp_path / "good.png")
    (tmp_path / "broken.png").write_bytes(b"\x89PNG not really")
    (tmp_path / "empty.jpg").write_bytes(b"")
    _manifest(
        tmp_path,
        [
            "good.png,melanoma. x",
            "broken.png,melanoma. y",
            "empty.jpg,melanoma. z",
            "gone.png,m. w",
        ],
        header="image,text",
    )
    report = load_samples(tmp_path)
    assert [s.image.name for s in report.samples] == ["good.png"]
    skipped = {path.name: reason for path, reason in report.skipped}
    assert set(skipped) == {"broken.png", "empty.jpg", "gone.png"}
    assert "does not exist" in skipped["gone.png"]
    assert "broken.png" in skipped["broken.png"]


def test_all_images_unreadable_is_an_error(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"junk")
    _manifest(tmp_path, ["broken.png,melanoma. x"], header="image,text")
    with pytest.raises(DataError, match="None of the images"):
        load_samples(tmp_path)


def test_empty_folder(tmp_path):
    with pytest.raises(DataError, match="contains no images"):
        load_samples(tmp_path)


def test_descriptions_without_header(tmp_path):
    images = _seed_folder(tmp_path, header=None)
    with pytest.raises(DataError, match="no header row"):
        load_samples(images)


def test_manifest_without_header(tmp_path):
    _image(tmp_path / "a.png")
    (tmp_path / "rows.csv").write_text("a.png,melanoma. blue-whitish veil\n", encoding="utf-8")
    with pytest.raises(DataError, match="no header row"):
        load_samples(tmp_path / "rows.csv")


def test_non_utf8_descriptions_are_refused_naming_the_file(tmp_path):
    texts = ["mélanome. voile bleu-blanc", *TEXTS[1:]]
    images = _seed_folder(tmp_path, texts=texts, encoding="cp1252")
    with pytest.raises(DataError, match=r"descriptions\.csv is not saved as UTF-8"):
        load_samples(images)


def test_manifest_bad_split_and_missing_columns(tmp_path):
    _image(tmp_path / "a.png")
    _manifest(tmp_path, ["a.png,melanoma. x,,,holdout,"])
    with pytest.raises(DataError, match="split 'holdout'"):
        load_samples(tmp_path)
    _manifest(tmp_path, ["a.png,melanoma"], header="image,diagnosis")
    with pytest.raises(DataError, match="'image' and 'text'"):
        load_samples(tmp_path)


def test_missing_source_and_descriptions_file(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_samples(tmp_path / "nowhere")
    with pytest.raises(DataError, match="does not exist"):
        load_samples(tmp_path, descriptions=tmp_path / "none.csv")


def test_require_class_members_names_the_class(tmp_path):
    samples = [Sample(tmp_path / f"{i}.png", "x", label, str(i)) for i, label in enumerate("aab")]
    require_class_members(samples, ["a"])
    with pytest.raises(DataError, match="class 'b' has 1 image"):
        require_class_members(samples, ["a", "b"])
    with pytest.raises(DataError, match="class 'c' has 0 image"):
        require_class_members(samples, ["c"])
