"""Blinded, durable reader-study rating sessions and their analysis (no Qt here).

Heavy analysis modules (numpy, scipy, krippendorff, matplotlib) are imported on demand from
``medgrad_desktop.review.analysis`` / ``report_html``; importing this package stays light.
"""

from medgrad_desktop.review.naming import default_session_path, safe_filename
from medgrad_desktop.review.schema import METHODS
from medgrad_desktop.review.session import RatingSession
from medgrad_desktop.review.session_config import SessionConfig
from medgrad_desktop.review.store import RatingStore

__all__ = [
    "METHODS",
    "RatingSession",
    "RatingStore",
    "SessionConfig",
    "default_session_path",
    "safe_filename",
]
