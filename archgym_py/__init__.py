"""archgym_py: gymnasium-style design-space exploration for computer architecture.

Importing the package registers every ``archgym/<Name>-v0`` env with gymnasium::

    import archgym_py, gymnasium as gym
    env = gym.make("archgym/Accelerator-v0", workload="resnet50")
"""

from __future__ import annotations

from ._agent import (
    Agent,
    BudgetExhausted,
    Evaluator,
    RunResult,
    agent_class,
    agent_names,
    make_agent,
)
from ._arch import Arch
from ._domain import Domain
from ._env import ArchEnv, EnvCore, make_core
from ._envspec import EnvSpec, load_env_spec
from ._errors import (
    ArchGymError,
    DesignError,
    ObjectiveError,
    OffGridWarning,
    SpecError,
    WorkloadError,
)
from ._objective import MetricBound, Objective
from ._params import Boolean, Categorical, Integer, Parameter, PowerOfTwo, Real
from ._record import EpisodeRecord, ReplayReport, replay
from ._simulator import Evaluation, MetricSpec, Simulator, Workload
from ._space import Batch, Constraint, DesignSpace
from ._trace import TraceStore
from ._vector_env import ArchVectorEnv
from .envs import DOMAINS, ENVS, register_domain, register_env, register_envs

__version__ = "0.1.0"

__all__ = [
    "DOMAINS",
    "ENVS",
    "Agent",
    "Arch",
    "BudgetExhausted",
    "Evaluator",
    "RunResult",
    "agent_class",
    "agent_names",
    "make_agent",
    "ArchEnv",
    "ArchGymError",
    "ArchVectorEnv",
    "Batch",
    "Boolean",
    "Categorical",
    "Constraint",
    "DesignError",
    "DesignSpace",
    "Domain",
    "EnvCore",
    "EnvSpec",
    "EpisodeRecord",
    "Evaluation",
    "Integer",
    "MetricBound",
    "MetricSpec",
    "Objective",
    "ObjectiveError",
    "OffGridWarning",
    "Parameter",
    "PowerOfTwo",
    "Real",
    "ReplayReport",
    "Simulator",
    "SpecError",
    "TraceStore",
    "Workload",
    "WorkloadError",
    "load_env_spec",
    "make_core",
    "register_domain",
    "register_env",
    "register_envs",
    "replay",
]

register_envs()
