"""Transformer model configs shared by every domain (data only)."""
