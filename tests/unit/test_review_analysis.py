"""Merge, statistics (checked against direct library calls), export and report CLI."""

from __future__ import annotations

import base64
import itertools
import json

import krippendorff
import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score

from medgrad_desktop.errors import SessionError
from medgrad_desktop.review import METHODS, RatingStore
from medgrad_desktop.review.agreement import fleiss_kappa_from_counts
from medgrad_desktop.review.analysis import build_report, merge_sessions, read_sessions
from medgrad_desktop.review.cli import main
from medgrad_desktop.review.method_stats import holm
from medgrad_desktop.review.report_html import render_html

READERS = ["anna", "bo", "Dr. Ça/ğ"]
CASES = [f"case{i:02d}.png" for i in range(10)]
PROMPT = "melanoma"


def _score(reader_i, case_i, method_i):
    rng = np.random.default_rng(1000 * reader_i + 10 * case_i + method_i)
    base = 2 + method_i + (case_i % 3 == 0)
    return int(np.clip(base + rng.integers(-1, 2), 1, 5))


@pytest.fixture(scope="module")
def study_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("study")
    paths = []
    for ri, reader in enumerate(READERS):
        path = folder / f"r{ri}.mgsession"
        with RatingStore.open(path, study="derm") as store:
            for ci, case in enumerate(CASES):
                for mi, method in enumerate(METHODS):
                    if ri == 2 and ci == 9 and mi == 0:
                        continue  # one missing rating: units with gaps are handled
                    store.add_rating(
                        reader=reader,
                        case=case,
                        prompt=PROMPT,
                        method=method,
                        score=_score(ri, ci, mi),
                    )
        paths.append(path)
    return paths


def _direct(ri, ci, mi):
    return np.nan if (ri, ci, mi) == (2, 9, 0) else _score(ri, ci, mi)


def test_statistics_match_direct_library_calls(study_files):
    ratings, files = read_sessions(study_files)
    report = build_report(ratings, files, resamples=400, alpha_resamples=200)
    assert report["readers"] == sorted(READERS) and report["cases"] == CASES
    # units sorted by (case, prompt, method); readers sorted
    order = [READERS.index(r) for r in sorted(READERS)]
    units = sorted(
        itertools.product(range(len(CASES)), range(len(METHODS))),
        key=lambda u: (CASES[u[0]], METHODS[u[1]]),
    )
    matrix = np.array([[_direct(ri, ci, mi) for ci, mi in units] for ri in order])
    alpha = krippendorff.alpha(
        reliability_data=matrix, level_of_measurement="ordinal", value_domain=[1, 2, 3, 4, 5]
    )
    entry = report["krippendorff_alpha_ordinal"]
    assert entry["value"] == pytest.approx(alpha)
    assert entry["ci_low"] < entry["value"] < entry["ci_high"] and entry["scale"] == "ordinal"

    for pair in report["cohen_kappa_weighted"]["pairs"]:
        i, j = (READERS.index(r) for r in pair["readers"])
        both = [
            (ci, mi) for ci, mi in units if not np.isnan(_direct(i, ci, mi) + _direct(j, ci, mi))
        ]
        expected = cohen_kappa_score(
            [_score(i, *u) for u in both], [_score(j, *u) for u in both], weights="quadratic"
        )
        assert pair["kappa"] == pytest.approx(expected) and pair["n"] == len(both)
    assert report["cohen_kappa_weighted"]["weights"] == "quadratic"

    complete = [u for u in units if u != (9, 0)]
    counts = np.array(
        [[sum(_score(r, *u) == c for r in range(3)) for c in range(1, 6)] for u in complete]
    )
    assert report["fleiss_kappa"]["value"] == pytest.approx(fleiss_kappa_from_counts(counts))
    assert report["fleiss_kappa"]["n_units"] == len(complete)
    assert report["fleiss_kappa"]["scale"].startswith("nominal")
    assert report["gwet_ac2_quadratic"]["scale"].startswith("ordinal")
    for key in ("gwet_ac2_quadratic", "icc_2_1"):
        stat = report[key]
        assert stat["ci_low"] < stat["value"] < stat["ci_high"]

    for mi, method in enumerate(METHODS):
        scores = [_direct(r, c, mi) for r in range(3) for c in range(10)]
        scores = [s for s in scores if not np.isnan(s)]
        stats = report["per_method"][method]
        assert stats["mean"] == pytest.approx(np.mean(scores)) and stats["n"] == len(scores)
        assert stats["ci_low"] <= stats["mean"] <= stats["ci_high"]
        assert stats["ci_low"] < stats["ci_high"]
    assert [(d["a"], d["b"]) for d in report["method_differences"]] == list(
        itertools.combinations(METHODS, 2)
    )
    assert report["friedman"]["n_blocks"] == 10  # cases, not reader × case blocks
    assert {f["file"] for f in report["provenance"]["files"]} == {p.name for p in study_files}
    assert all(len(f["sha256"]) == 64 for f in report["provenance"]["files"])
    json.dumps(report, allow_nan=False)


def test_fleiss_kappa_textbook_example():
    # Fleiss (1971)-style worked example (Wikipedia "Fleiss' kappa"): 10 subjects, 14 raters.
    table = np.array(
        [
            [0, 0, 0, 0, 14],
            [0, 2, 6, 4, 2],
            [0, 0, 3, 5, 6],
            [0, 3, 9, 2, 0],
            [2, 2, 8, 1, 1],
            [7, 7, 0, 0, 0],
            [3, 2, 6, 3, 0],
            [2, 5, 3, 2, 2],
            [6, 5, 2, 1, 0],
            [0, 2, 2, 3, 7],
        ]
    )
    assert fleiss_kappa_from_counts(table) == pytest.approx(0.2099, abs=1e-4)
    statsmodels_ir = pytest.importorskip("statsmodels.stats.inter_rater")
    assert fleiss_kappa_from_counts(table) == pytest.approx(statsmodels_ir.fleiss_kappa(table))


def test_holm_against_reference():
    p = [0.01, 0.04, 0.03, 0.5]
    assert holm(p) == pytest.approx([0.04, 0.09, 0.09, 0.5])
    multitest = pytest.importorskip("statsmodels.stats.multitest")
    rng = np.random.default_rng(3)
    for _ in range(20):
        p = list(rng.uniform(0, 0.2, size=rng.integers(1, 7)))
        assert holm(p) == pytest.approx(list(multitest.multipletests(p, method="holm")[1]))


def test_fewer_than_three_methods_and_one_reader(tmp_path):
    path = tmp_path / "solo.mgsession"
    with RatingStore.open(path) as store:
        for i, case in enumerate(CASES):
            store.add_rating(
                reader="solo", case=case, prompt=PROMPT, method="gradcam", score=1 + i % 5
            )
            store.add_rating(
                reader="solo", case=case, prompt=PROMPT, method="medgrad", score=1 + (i + 2) % 5
            )
    report = build_report(merge_sessions([path]), resamples=200)
    assert report["friedman"]["statistic"] is None and "three" in report["friedman"]["reason"]
    assert report["krippendorff_alpha_ordinal"]["value"] is None
    assert report["gwet_ac2_quadratic"]["value"] is None and report["icc_2_1"]["value"] is None
    assert "two readers" in report["notes"]["krippendorff_alpha_ordinal"]
    assert report["cohen_kappa_weighted"]["pairs"] == []
    (difference,) = report["method_differences"]
    assert difference["p"] is not None and difference["ci_low"] < difference["ci_high"]
    assert report["mixed_model"]["variance_components"]["reader"] is None


def test_merge_refuses_different_studies(tmp_path):
    a, b = tmp_path / "a.mgsession", tmp_path / "b.mgsession"
    RatingStore.open(a, study="melanoma-2026").close()
    RatingStore.open(b, study="nevus-pilot").close()
    with pytest.raises(SessionError) as info:
        merge_sessions([a, b])
    assert "melanoma-2026" in str(info.value) and "nevus-pilot" in str(info.value)


def test_merge_refuses_the_same_file_twice(study_files):
    with pytest.raises(SessionError, match="merge each reader's session only once"):
        merge_sessions([study_files[0], study_files[0]])


def test_cli_export_and_report(study_files, tmp_path, capsys):
    csv_out, json_out, html_out = tmp_path / "o.csv", tmp_path / "r.json", tmp_path / "r.html"
    assert main(["export", *map(str, study_files), "--csv", str(csv_out)]) == 0
    lines = csv_out.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("study,source,id") and len(lines) == 1 + 89
    assert "Dr. Ça/ğ" in csv_out.read_text(encoding="utf-8")
    args = ["report", *map(str, study_files), "--json", str(json_out), "--html", str(html_out)]
    assert main(args) == 0
    report = json.loads(json_out.read_text(encoding="utf-8"))
    for key in (
        "readers",
        "cases",
        "krippendorff_alpha_ordinal",
        "fleiss_kappa",
        "cohen_kappa_weighted",
        "gwet_ac2_quadratic",
        "icc_2_1",
        "per_method",
        "method_differences",
        "mixed_model",
        "friedman",
        "wrong_region",
        "time_per_rating",
        "per_reader",
        "per_case",
        "provenance",
    ):
        assert key in report
    page = html_out.read_text(encoding="utf-8")
    images = page.count("data:image/png;base64,")
    assert images == 2 and "<script" not in page
    first = page.split("data:image/png;base64,")[1].split('"')[0]
    assert base64.b64decode(first)[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_errors_are_one_line_exit_2(tmp_path, capsys):
    a, b = tmp_path / "a.mgsession", tmp_path / "b.mgsession"
    RatingStore.open(a, study="one").close()
    RatingStore.open(b, study="two").close()
    assert main(["report", str(a), str(b), "--json", str(tmp_path / "r.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "'one'" in err and "'two'" in err
    assert main(["export", str(tmp_path / "missing.mgsession"), "--csv", "x.csv"]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert not (tmp_path / "r.json").exists()


def test_html_escapes_reader_ids(study_files):
    ratings = merge_sessions(study_files)
    for r in ratings:
        r["reader"] = "<b>$x$</b>" if r["reader"] == "anna" else r["reader"]
    page = render_html(ratings, build_report(ratings, resamples=100, alpha_resamples=50))
    assert "<b>$x$</b>" not in page and "&lt;b&gt;$x$&lt;/b&gt;" in page
