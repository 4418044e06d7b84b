"""DRAM memory systems, env specs and shipped surrogates (data only)."""
