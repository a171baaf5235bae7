"""Label files: manifest CSV, ISIC ground truth, folder-per-class, and bad files."""

from __future__ import annotations

import pytest

from medgrad_desktop.browse.labels import load_labels
from medgrad_desktop.errors import DataError
from medgrad_desktop.explain.prompt_sets import bundled_prompt_sets, load_prompt_set

NAMES = ["a.png", "b.png", "c.jpg", "ISIC_0000001.jpg", "ISIC_0000002.jpg"]


@pytest.fixture(scope="module")
def ph2():
    return load_prompt_set(bundled_prompt_sets()["PH² criteria"])


@pytest.fixture(scope="module")
def isic():
    return load_prompt_set(bundled_prompt_sets()["ISIC 2018 classes"])


def _csv(tmp_path, text, name="labels.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_manifest_csv_matches_paths_and_class_names(tmp_path, ph2):
    path = _csv(
        tmp_path,
        "image,text,label\nimages/a.png,x,Melanoma\nb.png,y,common  nevus\nc,z,atypical_nevus\n",
    )
    labels = load_labels(path, tmp_path, NAMES[:3], ph2)
    assert labels.class_labels == ["common nevus", "atypical nevus", "melanoma"]
    assert labels.truth == {"a.png": 2, "b.png": 0, "c.jpg": 1}
    assert labels.warnings == []


def test_semicolon_csv_with_bom(tmp_path, ph2):
    path = _csv(tmp_path, "\ufeffImage;Label\na.png;melanoma\nb.png;melanoma\n")
    assert load_labels(path, tmp_path, NAMES[:2], ph2).truth == {"a.png": 2, "b.png": 2}


def test_isic_ground_truth_one_hot(tmp_path, isic):
    path = _csv(
        tmp_path,
        "image,MEL,NV,BCC,AKIEC,BKL,DF,VASC\n"
        "ISIC_0000001,0.0,1.0,0.0,0.0,0.0,0.0,0.0\n"
        "ISIC_0000002,0,0,0,1,0,0,0\n"
        "ISIC_0000003,1,0,0,0,0,0,0\n",
    )
    labels = load_labels(path, tmp_path, NAMES, isic)
    assert labels.truth == {"ISIC_0000001.jpg": 1, "ISIC_0000002.jpg": 3}
    assert "1 image(s) named in labels.csv are not in the folder" in labels.warnings[0]
    assert "ISIC_0000003" in labels.warnings[0]
    assert "3 image(s) in the folder have no label" in labels.warnings[1]


def test_isic_row_without_exactly_one_diagnosis(tmp_path, isic):
    path = _csv(tmp_path, "image,MEL,NV\nISIC_0000001,1,1\n")
    with pytest.raises(DataError, match=r"Line 2 of labels\.csv does not mark exactly one"):
        load_labels(path, tmp_path, NAMES, isic)
    path = _csv(tmp_path, "image,MEL,NV\nISIC_0000001,yes,0\n")
    with pytest.raises(DataError, match="not 0 or 1"):
        load_labels(path, tmp_path, NAMES, isic)


def test_folder_per_class(tmp_path, ph2):
    names = ["melanoma/x.png", "common nevus/y.png", "loose.png"]
    labels = load_labels(None, tmp_path, names, ph2)
    assert labels.truth == {"melanoma/x.png": 2, "common nevus/y.png": 0}
    assert "loose.png" in labels.warnings[0]
    with pytest.raises(DataError, match="has no class subfolders"):
        load_labels(None, tmp_path, ["loose.png"], ph2)


def test_unknown_classes_name_the_culprits_and_the_known_classes(tmp_path, ph2):
    path = _csv(tmp_path, "image,label\na.png,melanoma\nb.png,seborrhoeic wart\nc.jpg,lentigo\n")
    with pytest.raises(DataError) as info:
        load_labels(path, tmp_path, NAMES, ph2)
    message = str(info.value)
    assert "2 class name(s)" in message and "lentigo, seborrhoeic wart" in message
    assert "common nevus, atypical nevus, melanoma" in message


def test_no_listed_image_in_folder(tmp_path, ph2):
    path = _csv(tmp_path, "image,label\nzz.png,melanoma\n")
    with pytest.raises(DataError, match=r"None of the 1 images named in labels\.csv is in"):
        load_labels(path, tmp_path, NAMES, ph2)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty"),
        ("   \n\n", "is empty"),
        ("file,diagnosis_text\na.png,melanoma\n", "needs a header row with the columns 'image'"),
        ("image,label\n", "lists no images"),
        ("image,label\na.png,melanoma\na.png,common nevus\n", "two different labels"),
        ("image,label\na.png,\n", "no image name or no label"),
    ],
)
def test_bad_label_files(tmp_path, ph2, text, message):
    with pytest.raises(DataError, match=message):
        load_labels(_csv(tmp_path, text), tmp_path, NAMES, ph2)


def test_not_utf8_and_missing_file(tmp_path, ph2):
    path = _csv(tmp_path, "image,label\na.png,mélanome\n", encoding="utf-16")
    with pytest.raises(DataError, match="not UTF-8"):
        load_labels(path, tmp_path, NAMES, ph2)
    with pytest.raises(DataError, match="does not exist"):
        load_labels(tmp_path / "nope.csv", tmp_path, NAMES, ph2)


def test_ambiguous_short_names_are_not_guessed(tmp_path, ph2):
    names = ["melanoma/x.png", "common nevus/x.png"]
    path = _csv(tmp_path, "image,label\nx.png,melanoma\nmelanoma/x.png,melanoma\n")
    labels = load_labels(path, tmp_path, names, ph2)
    assert labels.truth == {"melanoma/x.png": 2}
    assert "x.png" in labels.warnings[0]
