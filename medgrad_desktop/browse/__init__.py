"""Qt-free browsing by meaning: folder embeddings, text and image search, zero-shot
predictions, labels, confusion matrix, failure gallery and calibration.

Typical use::

    from medgrad_desktop.browse import embed_folder, rank_by_text
    embeddings = embed_folder(bundle, folder)
    ranked = rank_by_text(bundle, embeddings, "blue-whitish veil")
"""

from medgrad_desktop.browse.folder_embeddings import FolderEmbeddings, embed_folder
from medgrad_desktop.browse.ranking import Ranked, cosine_scores, rank_by_text, rank_similar

__all__ = [
    "FolderEmbeddings",
    "Ranked",
    "cosine_scores",
    "embed_folder",
    "rank_by_text",
    "rank_similar",
]
