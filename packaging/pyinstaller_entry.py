"""Entry script of the frozen app (PyInstaller): the same command line as ``medgrad-desktop``."""

import multiprocessing
import os
import sys

if __name__ == "__main__":
    # Child processes of a frozen app (DataLoader workers, spawn start method) re-enter here.
    multiprocessing.freeze_support()
    # A windowed build on Windows has no console: give print/tqdm somewhere harmless to write.
    if sys.stdout is None:
        sys.stdout = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    if sys.stderr is None:
        sys.stderr = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    from medgrad_desktop.cli import main

    sys.exit(main())
