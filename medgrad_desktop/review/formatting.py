"""One number format for the study report: three significant digits, p < 0.001, counts as
whole numbers, missing values as a dash."""

from __future__ import annotations

import math
from typing import Any

DASH = "—"


def number(value: Any) -> str:
    """``0.4567`` → ``0.457``; ``12.0`` → ``12.0``; ``1234.5`` → ``1230``; ints unchanged."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    value = float(value)
    if value == 0:
        return "0"
    magnitude = math.floor(math.log10(abs(value)))
    if magnitude >= 3:
        return f"{round(value, 2 - magnitude):.0f}"
    decimals = max(0, 2 - magnitude)
    return f"{value:.{decimals}f}"


def p_value(value: Any) -> str:
    """``p < 0.001`` below one in a thousand, else three significant digits."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return DASH
    return "< 0.001" if value < 0.001 else number(float(value))


def interval(low: Any, high: Any) -> str:
    """``0.412 – 0.733`` (or a dash when the interval is missing)."""
    if low is None or high is None:
        return DASH
    return f"{number(low)} – {number(high)}"
