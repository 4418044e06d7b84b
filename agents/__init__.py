"""Search strategies, one module per family, each with its hyperparameter space.

``AGENTS`` is the registry table (agent name -> ``"module:Class"``); entry points are strings,
so importing this package loads no agent code (and no optuna, SB3 or torch).
"""

from __future__ import annotations

AGENTS: dict[str, str] = {
    "random": "archgym_py.agents.random_search:RandomSearch",
    "random_walk": "archgym_py.agents.random_search:RandomWalk",
    "ga": "archgym_py.agents.genetic:GeneticAlgorithm",
    "aco": "archgym_py.agents.ant_colony:AntColony",
    "tpe": "archgym_py.agents.optuna_agents:TPE",
    "gp": "archgym_py.agents.optuna_agents:GaussianProcess",
    "cmaes": "archgym_py.agents.optuna_agents:CMAES",
    "qmc": "archgym_py.agents.optuna_agents:QMC",
    "optuna_random": "archgym_py.agents.optuna_agents:OptunaRandom",
    "nsga2": "archgym_py.agents.optuna_agents:NSGA2",
    "nsga3": "archgym_py.agents.optuna_agents:NSGA3",
    "ppo": "archgym_py.agents.rl:PPO",
    "a2c": "archgym_py.agents.rl:A2C",
    "dqn": "archgym_py.agents.rl:DQN",
}
