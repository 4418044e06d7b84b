"""The domains, one subpackage each, and every ``register()`` call.

``ENVS`` is the registry table: env id -> its env spec, a path under ``arch_specs/``.
Entry points are strings, so registering imports no domain code.
"""

from __future__ import annotations

ENVS: dict[str, str] = {
    "archgym/Accelerator-v0": "accelerator/env.yaml",
    "archgym/AcceleratorSmall-v0": "accelerator/env_small.yaml",
    "archgym/DRAM-v0": "dram/env.yaml",
    "archgym/DRAMLPDDR4-v0": "dram/env_lpddr4.yaml",
}

ENTRY_POINT = "archgym_py._env:ArchEnv"
VECTOR_ENTRY_POINT = "archgym_py._vector_env:ArchVectorEnv"


def register_envs() -> None:
    """Register every archgym id with gymnasium (idempotent)."""
    import gymnasium as gym

    for env_id, spec in ENVS.items():
        if env_id not in gym.registry:
            gym.register(
                id=env_id,
                entry_point=ENTRY_POINT,
                vector_entry_point=VECTOR_ENTRY_POINT,
                kwargs={"spec": spec},
            )
