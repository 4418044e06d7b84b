"""Bayesian optimisation and friends through Optuna's samplers (ask/tell, batched).

Every agent searches level indices (``IntDistribution(0, n - 1)`` for ordered knobs,
``CategoricalDistribution`` for categorical ones), so it explores exactly the designs the other
agents do. Single-objective agents maximise the env's reward; NSGA-II/III minimise the
objective's Pareto metrics under the objective's constraints and return a Pareto front.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._agent import Agent, Evaluator
from .._imports import quiet_optuna
from .._params import Boolean, Categorical, Integer, PowerOfTwo, Real
from .._space import DesignSpace
from ._encoding import IndexEncoding


def _optuna():
    try:
        import optuna
    except ImportError as exc:  # pragma: no cover - optuna is a core dependency
        raise ImportError("Optuna agents need optuna: pip install optuna") from exc
    return optuna


def _batch_size(default: int = 1) -> PowerOfTwo:
    return PowerOfTwo(
        "batch_size", low=1, high=256, default=default, doc="trials asked before telling"
    )


class OptunaAgent(Agent):
    """Shared ask/tell loop; subclasses build the sampler from ``self.hp``."""

    def _sampler(self, optuna, n_dims: int):
        raise NotImplementedError

    def _distributions(self, optuna, enc: IndexEncoding) -> dict[str, Any]:
        dists = {}
        for p, n in zip(enc.space.params, enc.nvec, strict=True):
            if isinstance(p, (Categorical, Boolean)):
                dists[p.name] = optuna.distributions.CategoricalDistribution(list(range(int(n))))
            else:
                dists[p.name] = optuna.distributions.IntDistribution(0, int(n) - 1)
        return dists

    def _study(self, optuna, enc: IndexEncoding):
        return optuna.create_study(direction="maximize", sampler=self._sampler(optuna, enc.dims))

    def _tell(self, study, trials, rewards, metrics, feasible) -> None:
        for trial, reward in zip(trials, rewards, strict=False):
            study.tell(trial, float(reward))

    def _search(self, evaluator: Evaluator, rng: np.random.Generator) -> None:
        optuna = _optuna()
        enc = IndexEncoding(evaluator.space)
        with warnings.catch_warnings(), quiet_optuna():
            # Several samplers are marked experimental; that is not the user's concern here.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            study = self._study(optuna, enc)
            dists = self._distributions(optuna, enc)
            names = list(dists)
            while evaluator.remaining > 0:
                trials = [
                    study.ask(dists)
                    for _ in range(min(self._trials_per_batch(), evaluator.remaining))
                ]
                indices = np.array([[t.params[n] for n in names] for t in trials], dtype=np.int64)
                ok = enc.feasible.mask(indices)
                if not ok.all():
                    self._redirect(optuna, study, trials, indices, ~ok, enc, names)
                    trials = [t for t, keep in zip(trials, ok, strict=True) if keep]
                    indices = indices[ok]
                if len(trials):
                    rewards, metrics, feasible = evaluator.evaluate(indices)
                    self._tell(study, trials, rewards, metrics, feasible)

    @staticmethod
    def _redirect(optuna, study, trials, indices, bad, enc: IndexEncoding, names) -> None:
        """A proposal that breaks a constraint is not simulated (the budget counts simulator
        calls): its trial fails and the nearest feasible design is queued as the next trial."""
        for i, row in zip(np.flatnonzero(bad), enc.repair(indices[bad]), strict=True):
            study.tell(trials[i], state=optuna.trial.TrialState.FAIL)
            study.enqueue_trial({n: int(v) for n, v in zip(names, row, strict=True)},
                                skip_if_exists=False)  # fmt: skip

    def _trials_per_batch(self) -> int:
        return int(self.hp["batch_size"])


class TPE(OptunaAgent):
    """Tree-structured Parzen estimator (Bergstra et al., 2011)."""

    name = "tpe"
    description = "Optuna TPE (Bayesian optimisation)"
    hyperparameter_space = DesignSpace(
        [
            Integer("n_startup_trials", low=1, high=100, default=10, doc="random trials first"),
            Integer("n_ei_candidates", low=4, high=256, default=24),
            Boolean("multivariate", default=True),
            Boolean(
                "constant_liar", default=False, doc="penalise pending trials when batch_size > 1"
            ),
            _batch_size(),
        ],
        name="tpe hyperparameters",
    )

    def _sampler(self, optuna, n_dims):
        return optuna.samplers.TPESampler(
            n_startup_trials=self.hp["n_startup_trials"],
            n_ei_candidates=self.hp["n_ei_candidates"],
            multivariate=self.hp["multivariate"],
            constant_liar=self.hp["constant_liar"],
            seed=self.seed,
        )


class GaussianProcess(OptunaAgent):
    """Gaussian-process Bayesian optimisation (Optuna's GPSampler; needs torch)."""

    name = "gp"
    description = "Optuna Gaussian-process BO"
    hyperparameter_space = DesignSpace(
        [
            Integer("n_startup_trials", low=1, high=100, default=10),
            Boolean("deterministic_objective", default=True, doc="noise-free simulator"),
            _batch_size(),
        ],
        name="gp hyperparameters",
    )

    def _sampler(self, optuna, n_dims):
        return optuna.samplers.GPSampler(
            n_startup_trials=self.hp["n_startup_trials"],
            deterministic_objective=self.hp["deterministic_objective"],
            seed=self.seed,
        )


class CMAES(OptunaAgent):
    """CMA-ES (Hansen, 2016) on the ordered knobs; categorical knobs are sampled independently."""

    name = "cmaes"
    description = "Optuna CMA-ES"
    hyperparameter_space = DesignSpace(
        [
            Integer("n_startup_trials", low=0, high=100, default=0, doc="random trials first"),
            Integer(
                "popsize", low=4, high=128, default=12, doc="offspring per generation (one batch)"
            ),
            Categorical(
                "variant",
                values=("margin", "separable", "lr_adapt", "plain"),
                default="margin",
                doc="with margin for discrete knobs (Hamano et al., 2022), diagonal covariance, "
                "learning-rate adaptation (Nomura et al., 2023), or plain; Optuna allows one",
            ),
        ],
        name="cmaes hyperparameters",
    )

    def _sampler(self, optuna, n_dims):
        independent = optuna.samplers.RandomSampler(seed=self.seed)
        variant = self.hp["variant"]
        return optuna.samplers.CmaEsSampler(
            n_startup_trials=self.hp["n_startup_trials"],
            popsize=self.hp["popsize"],
            with_margin=variant == "margin",
            use_separable_cma=variant == "separable",
            lr_adapt=variant == "lr_adapt",
            independent_sampler=independent,
            warn_independent_sampling=False,
            seed=self.seed,
        )

    def _trials_per_batch(self) -> int:
        return int(self.hp["popsize"])


class QMC(OptunaAgent):
    """Quasi-Monte Carlo sampling (Sobol or Halton sequence), a space-filling baseline."""

    name = "qmc"
    baseline = True
    description = "Optuna quasi-Monte Carlo"
    hyperparameter_space = DesignSpace(
        [
            Categorical("qmc_type", values=("sobol", "halton"), default="sobol"),
            Boolean("scramble", default=True),
            _batch_size(64),
        ],
        name="qmc hyperparameters",
    )

    def _sampler(self, optuna, n_dims):
        return optuna.samplers.QMCSampler(
            qmc_type=self.hp["qmc_type"],
            scramble=self.hp["scramble"],
            seed=self.seed,
            warn_independent_sampling=False,
        )


class OptunaRandom(OptunaAgent):
    """Optuna's random sampler (the same baseline as ``random``, through Optuna)."""

    name = "optuna_random"
    baseline = True
    description = "Optuna random sampler"
    hyperparameter_space = DesignSpace([_batch_size(64)], name="optuna_random hyperparameters")

    def _sampler(self, optuna, n_dims):
        return optuna.samplers.RandomSampler(seed=self.seed)


class _NSGA(OptunaAgent):
    """Multi-objective: minimise the objective's Pareto metrics, constraints as Optuna constraints."""

    multi_objective = True

    def _study(self, optuna, enc):
        self._directions = self.core.objective.pareto_directions()
        return optuna.create_study(directions=list(self._directions.values()),
                                   sampler=self._sampler(optuna, enc.dims))  # fmt: skip

    def _tell(self, study, trials, rewards, metrics, feasible) -> None:
        violation = self.core.objective.constraint_violation(metrics)
        violation = np.broadcast_to(violation, np.shape(rewards))
        for i, trial in enumerate(trials[: len(rewards)]):
            # Optuna reads constraints (<= 0 is satisfied) from the trial when it is told.
            unmappable = 0.0 if feasible[i] or violation[i] > 0 else 1.0
            trial.set_constraint("violation", float(violation[i]) + unmappable)
            study.tell(trial, [float(np.log(max(metrics[m][i], 1e-300))) for m in self._directions])

    def _trials_per_batch(self) -> int:
        return int(self.hp["population_size"])


def _nsga_space(name: str) -> DesignSpace:
    return DesignSpace(
        [
            Integer(
                "population_size",
                low=4,
                high=256,
                default=32,
                doc="designs per generation (one batch)",
            ),
            Real("mutation_prob", low=0.0, high=1.0, default=0.125, doc="per knob"),
            Real("crossover_prob", low=0.0, high=1.0, default=0.9),
            Real(
                "swapping_prob", low=0.0, high=1.0, default=0.5, doc="uniform crossover gene swap"
            ),
        ],
        name=f"{name} hyperparameters",
    )


class NSGA2(_NSGA):
    """NSGA-II (Deb et al., 2002): returns the Pareto front of the objective's metrics."""

    name = "nsga2"
    description = "Optuna NSGA-II (multi-objective)"
    hyperparameter_space = _nsga_space("nsga2")

    def _sampler(self, optuna, n_dims):
        return optuna.samplers.NSGAIISampler(
            population_size=self.hp["population_size"], mutation_prob=self.hp["mutation_prob"],
            crossover_prob=self.hp["crossover_prob"], swapping_prob=self.hp["swapping_prob"],
            seed=self.seed,
        )  # fmt: skip


class NSGA3(_NSGA):
    """NSGA-III (Deb & Jain, 2014), reference-point based: returns the Pareto front."""

    name = "nsga3"
    description = "Optuna NSGA-III (multi-objective)"
    hyperparameter_space = _nsga_space("nsga3")

    def _sampler(self, optuna, n_dims):
        return optuna.samplers.NSGAIIISampler(
            population_size=self.hp["population_size"], mutation_prob=self.hp["mutation_prob"],
            crossover_prob=self.hp["crossover_prob"], swapping_prob=self.hp["swapping_prob"],
            seed=self.seed,
        )  # fmt: skip
