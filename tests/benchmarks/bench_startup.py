"""Benchmark: time from launch to the window, and to the first maps, of the real app.

Each start is a fresh process, as a user's double-click: ``python -m medgrad_desktop
--self-test`` on the demo (demo model, bundled demo images), which prints when the window,
the first image and the first maps appeared (seconds since the process was created). Side by
side, in the same run, a bare PySide6 window (QApplication + an empty QMainWindow, shown and
painted) gives the floor that Python and Qt alone cost. The first start (empty user data
folder) and later starts are both measured; budgets on 2 CPU cores: window ≤ 1 s more than the
bare window, first maps ≤ 6 s.

Run: ``python tests/benchmarks/bench_startup.py`` (last line: the figures).
"""

from __future__ import annotations

import os
import re
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STARTS = 3
BARE_WINDOW = """
import time, psutil
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow()
window.resize(1260, 740)
window.show()
app.processEvents()
print(f"window {time.time() - psutil.Process().create_time():.3f}")
"""
TIMES = re.compile(
    r"window ([\d.]+) s, first image ([\d.]+) s \((\w+) torch.*first maps ([\d.]+) s"
)


def _environment(user_data: Path) -> dict:
    """Isolated user data and settings; compiled bytecode kept (as an installed app has it)."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["PYTHONPATH"] = str(ROOT)
    env["MEDGRAD_USER_DATA"] = str(user_data / "data")
    env["MEDGRAD_SETTINGS_DIR"] = str(user_data / "settings")
    return env


def bare_window(env: dict) -> float:
    out = subprocess.run(
        [sys.executable, "-c", BARE_WINDOW], env=env, capture_output=True, text=True, check=True
    ).stdout
    return float(out.split()[-1])


def app_start(env: dict) -> tuple[float, float, str, float]:
    done = subprocess.run(
        [sys.executable, "-m", "medgrad_desktop", "--self-test"],
        env=env,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    match = TIMES.search(done.stdout)
    if done.returncode != 0 or match is None:
        raise SystemExit(f"the app did not start cleanly:\n{done.stdout}\n{done.stderr}")
    return float(match[1]), float(match[2]), match[3], float(match[4])


def main() -> int:
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="medgrad-bench-start-") as tmp:
        warm_up = _environment(Path(tmp) / "warm-up")
        warm_up["PYTHONPYCACHEPREFIX"] = str(Path(tmp) / "pycache")
        bare_window(warm_up)
        app_start(warm_up)  # compiles the bytecode once, as installing the app does
        env = _environment(Path(tmp) / "user")
        env["PYTHONPYCACHEPREFIX"] = warm_up["PYTHONPYCACHEPREFIX"]
        bare = [bare_window(env) for _ in range(STARTS)]
        first = app_start(env)  # empty user data folder: the demo images are copied first
        later = [app_start(env) for _ in range(STARTS)]
    print(f"CPU load average before the run: {load[0]:.2f} (on {os.cpu_count()} cores)")
    print(
        f"first start: window {first[0]:.2f} s, first image {first[1]:.2f} s "
        f"({first[2]} torch), first maps {first[3]:.2f} s"
    )
    for index, (window, image, when, maps) in enumerate(later, start=1):
        print(
            f"start {index}: window {window:.2f} s, first image {image:.2f} s "
            f"({when} torch), first maps {maps:.2f} s"
        )
    window = statistics.median(t[0] for t in later)
    maps = statistics.median(t[3] for t in later)
    print(
        f"time to window: {window:.2f} s (bare Qt window: {statistics.median(bare):.2f} s); "
        f"first maps: {maps:.2f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
