"""MedGrad Desktop: review and rate CLIP attribution maps of skin-lesion images.

Research use only; not for clinical decision-making.
"""

__version__ = "0.1.0"

RESEARCH_NOTICE = "Research use only — not for diagnosis or clinical decision-making."
