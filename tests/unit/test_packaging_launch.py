"""Headless jobs are started with the right command from source and from the frozen bundle."""

from __future__ import annotations

import subprocess
import sys

from medgrad_desktop.launch import training_command


def test_training_command_from_source_runs_the_training_module():
    command = training_command(["synth", "--help"])
    assert command == [sys.executable, "-m", "training", "synth", "--help"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "--out" in result.stdout


def test_training_command_when_frozen_uses_the_bundles_train_subcommand(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", "/opt/medgrad-desktop/medgrad-desktop")
    assert training_command(["fit", "--config", "c.yaml"]) == [
        "/opt/medgrad-desktop/medgrad-desktop",
        "train",
        "fit",
        "--config",
        "c.yaml",
    ]
