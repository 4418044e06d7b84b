"""Data only: the YAML specs (base architectures, env specs, model configs, shipped surrogates)."""
