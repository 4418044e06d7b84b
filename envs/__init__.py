"""The domains, one subpackage each, and every ``register()`` call.

``ENVS`` is the registry table: env id -> its env spec, a path under ``arch_specs/``.
Entry points are strings, so registering imports no domain code.
"""

from __future__ import annotations

ENVS: dict[str, str] = {
    "archgym/Accelerator-v0": "accelerator/env.yaml",
    "archgym/AcceleratorSmall-v0": "accelerator/env_small.yaml",
    "archgym/AcceleratorCoDesign-v0": "accelerator/env_codesign.yaml",
    "archgym/AcceleratorMapped-v0": "accelerator/env_mapped.yaml",
    "archgym/DRAM-v0": "dram/env.yaml",
    "archgym/DRAMLPDDR4-v0": "dram/env_lpddr4.yaml",
    "archgym/GPU-v0": "gpu/env.yaml",
    "archgym/GPUTraining-v0": "gpu/env_training.yaml",
    "archgym/GPUDesign-v0": "gpu/env_design.yaml",
    "archgym/Cluster-v0": "cluster/env.yaml",
    "archgym/ClusterMoE-v0": "cluster/env_moe.yaml",
    "archgym/ClusterGPUDesign-v0": "cluster/env_design.yaml",
}

#: The installed domains: name -> ``"module:attribute"`` of its :class:`archgym_py.Domain`. An env
#: spec names its domain here (``domain: dram``); a plug-in adds one through the
#: ``archgym_py.domains`` entry-point group of its package, or :func:`register_domain`. Nothing
#: else is imported on a spec's say-so.
DOMAINS: dict[str, str] = {
    "accelerator": "archgym_py.envs.accelerator:DOMAIN",
    "accelerator_codesign": "archgym_py.envs.accelerator.codesign:CODESIGN_DOMAIN",
    "accelerator_mapped": "archgym_py.envs.accelerator.codesign:MAPPED_DOMAIN",
    "dram": "archgym_py.envs.dram:DOMAIN",
    "gpu": "archgym_py.envs.gpu:DOMAIN",
    "gpu_training": "archgym_py.envs.gpu:TRAINING_DOMAIN",
    "gpu_design": "archgym_py.envs.gpu:DESIGN_DOMAIN",
    "cluster": "archgym_py.envs.cluster:DOMAIN",
    "cluster_design": "archgym_py.envs.cluster:DESIGN_DOMAIN",
}
DOMAIN_ENTRY_POINT_GROUP = "archgym_py.domains"

ENTRY_POINT = "archgym_py._env:ArchEnv"
VECTOR_ENTRY_POINT = "archgym_py._vector_env:ArchVectorEnv"


def register_env(env_id: str, spec: str) -> None:
    """Add an env to ``ENVS`` and register it with gymnasium: ``spec`` is a path to an env YAML
    (a new domain's, outside this package) or a spec under ``arch_specs/``. The id then works
    with ``gymnasium.make``, :func:`archgym_py.make_core`, agents, sweeps and the CLI.
    """
    from pathlib import Path

    import gymnasium as gym

    from .._errors import ArchGymError

    if Path(spec).is_file():  # a user's file: keep it whatever the working directory becomes
        spec = str(Path(spec).resolve())
    if env_id in ENVS and ENVS[env_id] != str(spec):
        raise ArchGymError(f"env id {env_id!r} is registered already, with spec {ENVS[env_id]!r}")
    ENVS[env_id] = str(spec)
    if env_id not in gym.registry:
        gym.register(id=env_id, entry_point=ENTRY_POINT, vector_entry_point=VECTOR_ENTRY_POINT,
                     kwargs={"spec": str(spec)})  # fmt: skip


def register_domain(name: str, entry_point: str) -> None:
    """Make a domain available to env specs as ``domain: <name>`` (``entry_point`` is
    ``"package.module:DOMAIN"``)."""
    from .._errors import ArchGymError

    if name in DOMAINS and DOMAINS[name] != entry_point:
        raise ArchGymError(f"domain {name!r} is registered already, as {DOMAINS[name]!r}")
    DOMAINS[name] = entry_point


def domain_entry_point(name: str) -> str:
    """The entry point of an installed domain: the ``DOMAINS`` table, then the packages that
    declare one in the ``archgym_py.domains`` entry-point group."""
    from importlib.metadata import entry_points

    from .._errors import SpecError, unknown_name

    if name in DOMAINS:
        return DOMAINS[name]
    for ep in entry_points(group=DOMAIN_ENTRY_POINT_GROUP):
        if ep.name == name:
            return ep.value
    installed = [*DOMAINS, *(ep.name for ep in entry_points(group=DOMAIN_ENTRY_POINT_GROUP))]
    raise SpecError(
        unknown_name("domain", name, installed)
        + f" (a plug-in declares one in the {DOMAIN_ENTRY_POINT_GROUP!r} entry-point group)"
    )


def register_envs() -> None:
    """Register every archgym id with gymnasium (idempotent)."""
    for env_id, spec in list(ENVS.items()):
        register_env(env_id, spec)
