"""Training from the app: the new-run dialog, the Jobs panel and the Training menu."""
