"""Human run names and the tidy training log of the Jobs panel."""

from __future__ import annotations

from pathlib import Path

import pytest

from medgrad_desktop.engine.run_names import human_run_name, run_model_name


def test_run_names_say_when_what_and_on_which_data(tmp_path):
    run = tmp_path / "20261201-063200-clip"
    run.mkdir()
    (run / "config.yaml").write_text("base: scratch\ndata: /home/a/demo_data\nepochs: 2\n")
    assert human_run_name(run) == "1 Dec 06:32 · CLIP · demo data"
    (run / "config.yaml").write_text("base: /models/derm-lip\ndata: /d/lesions.csv\n")
    assert human_run_name(run) == "1 Dec 06:32 · derm lip · lesions"
    assert run_model_name(run / "best") == "1 Dec 06:32 · derm lip · lesions (best)"
    assert run_model_name(run / "last") == "1 Dec 06:32 · derm lip · lesions (last saved)"
    assert run_model_name(tmp_path / "my-model") is None
    assert human_run_name(Path("/x/not-a-run")) == "not-a-run"


def test_the_log_loses_progress_bar_noise_but_keeps_messages():
    pytest.importorskip("PySide6")  # the log view lives in qt/; the floor job has no Qt
    from medgrad_desktop.qt.training.run_view import clean_log

    raw = (
        "Loading data\n"
        " 10%|█         | 1/10 [00:01<00:09, 1.0it/s]\r 20%|██        | 2/10 [00:02<00:08]\n"
        "epoch 1: validation loss 0.91\n"
        "\r\n"
        "Saved best/\n"
    )
    assert clean_log(raw) == "Loading data\nepoch 1: validation loss 0.91\nSaved best/"
