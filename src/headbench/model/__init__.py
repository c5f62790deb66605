"""The model: a pretrained encoder, the head registry and its heads, re-initialisation."""
