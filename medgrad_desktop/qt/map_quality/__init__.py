"""The "Map quality…" dialog (evaluation against ground-truth masks) and the mask-outline
toggle of browse mode."""
