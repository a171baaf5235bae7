"""The "Browse by meaning" window: search, sort and filter a folder by what the model sees,
and, with labels, the confusion matrix, failure gallery and reliability diagram."""
