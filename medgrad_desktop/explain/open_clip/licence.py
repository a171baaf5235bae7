"""The licence a model folder states (model-card front matter or a LICENSE file), and whether
it forbids derivatives (CC BY-ND, CC BY-NC-ND, …), so such a model is never fine-tuned."""

from __future__ import annotations

import re
from pathlib import Path

LICENCE_FILES = ("LICENSE", "LICENSE.txt", "LICENSE.md", "LICENCE", "LICENCE.txt", "LICENCE.md")
_FRONT_MATTER = re.compile(r"\A---\s*\n(.*?)\n---", re.DOTALL)
_LICENSE_LINE = re.compile(r"^licen[cs]e(?:_name)?\s*:\s*(.+)$", re.MULTILINE | re.IGNORECASE)
_NO_DERIVATIVES = re.compile(
    r"(\bcc[-_ ]by(?:[-_ ]nc)?[-_ ]nd\b|no[-_ ]?deriv|NoDerivatives|NoDerivs)", re.IGNORECASE
)
_READ_LIMIT = 200_000


def _read(path: Path) -> str:
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            return handle.read(_READ_LIMIT)
    except OSError:
        return ""


def stated_licences(folder: Path) -> list[str]:
    """Licence statements found in ``folder``: the README's ``license:`` lines and the
    first line of each LICENSE file."""
    found = []
    readme = _read(folder / "README.md")
    if match := _FRONT_MATTER.match(readme):
        found += [value.strip().strip("'\"") for value in _LICENSE_LINE.findall(match.group(1))]
    for name in LICENCE_FILES:
        text = _read(folder / name)
        if text.strip():
            found.append(text.strip())
    return found


def no_derivatives_licence(folder: str | Path) -> str | None:
    """The statement of a no-derivatives licence in ``folder`` (shortened), or None."""
    for statement in stated_licences(Path(folder)):
        if _NO_DERIVATIVES.search(statement):
            return statement.splitlines()[0][:120]
    return None
