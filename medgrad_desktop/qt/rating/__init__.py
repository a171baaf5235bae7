"""Rating mode of the main window: session setup, blinded rating, export and study report."""

from medgrad_desktop.qt.rating.rating_menu import RatingMenu, install_rating_mode

__all__ = ["RatingMenu", "install_rating_mode"]
