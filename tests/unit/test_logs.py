"""The log file never turns a log record into a traceback on the user's terminal."""

from __future__ import annotations

import logging
import shutil

from medgrad_desktop.logs import _LogFile


def test_an_unwritable_log_file_detaches_itself_without_a_traceback(tmp_path, capsys):
    folder = tmp_path / "logs"
    folder.mkdir()
    handler = _LogFile(folder / "medgrad.log", maxBytes=10, backupCount=1, encoding="utf-8")
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        logging.getLogger("medgrad_desktop.test").warning("first record, long enough to rotate")
        shutil.rmtree(folder)  # the rollover now fails
        logging.getLogger("medgrad_desktop.test").warning("second record")
        logging.getLogger("medgrad_desktop.test").warning("third record")
    finally:
        if handler in root.handlers:
            root.removeHandler(handler)
    err = capsys.readouterr().err
    assert handler not in root.handlers
    assert "Traceback" not in err and "Logging error" not in err
