"""Search strategies (random walk, genetic, ant colony, Optuna samplers, RL), one module per family.

``AGENTS`` is the registry table (agent name -> ``"module:Class"`` entry point); each agent
declares its hyperparameter space as a :class:`archgym_py.DesignSpace`.
"""

from __future__ import annotations

AGENTS: dict[str, str] = {}
