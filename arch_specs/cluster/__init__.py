"""Cluster base architectures and env specs (data only)."""
