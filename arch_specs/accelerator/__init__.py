"""Accelerator base architectures, env specs and shipped surrogates (data only)."""
