"""Statistics of a sweep: how much a result depends on the agent, its hyperparameters and its seed.

Scores are normalised per env so that envs can be pooled: ``score = (r - r0) / (r* - r0)`` with
``r*`` the env's exact optimum when the space was enumerated (else the best reward any run
found) and ``r0`` the median best reward of the ``random`` agent (else the worst run). A score of
1 is the optimum, 0 is what random search finds at the same budget.

Aggregates follow Agarwal et al., "Deep RL at the Edge of the Statistical Precipice" (NeurIPS
2021) and their rliable library's definitions: interquartile mean (IQM) of all runs, median of
the per-env mean scores, each with stratified bootstrap confidence intervals; probability of
improvement (ties count half, averaged over envs); performance profiles (share of runs scoring
strictly above tau). Hyperparameter sensitivity: expected best-of-k configurations
(Dodge et al., EMNLP 2019), the share of score variance between configurations versus between
seeds (one-way ANOVA), fANOVA importance (Hutter et al., ICML 2014, through Optuna).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as sps

from .._imports import quiet_optuna
from ._store import rows_by


def iqm(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Interquartile mean: the mean of the middle 50% of values."""
    return sps.trim_mean(np.asarray(x, dtype=np.float64), 0.25, axis=axis)


def stratified_bootstrap_ci(
    groups: Sequence[np.ndarray],
    statistic=iqm,
    reps: int = 2000,
    alpha: float = 0.05,
    seed: int = 0,
) -> tuple[float, float, float]:
    """Point estimate and percentile CI of ``statistic`` over the pooled groups, resampling within
    each group (stratum) with replacement."""
    rng = np.random.default_rng(seed)
    groups = [np.asarray(g, dtype=np.float64) for g in groups if len(g)]
    pooled = np.concatenate(groups)
    samples = np.concatenate(
        [g[rng.integers(0, len(g), size=(reps, len(g)))] for g in groups], axis=1
    )
    boot = statistic(samples, axis=1)
    lo, hi = np.percentile(boot, [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return float(statistic(pooled, axis=0)), float(lo), float(hi)


def median_of_means_ci(
    groups: Sequence[np.ndarray], reps: int = 2000, alpha: float = 0.05, seed: int = 0
) -> tuple[float, float, float]:
    """The aggregate median of rliable: the median over tasks (envs) of each task's mean score, with a
    percentile CI from resampling runs within each task."""
    rng = np.random.default_rng(seed)
    groups = [np.asarray(g, dtype=np.float64) for g in groups if len(g)]
    point = float(np.median([g.mean() for g in groups]))
    means = np.stack(
        [g[rng.integers(0, len(g), size=(reps, len(g)))].mean(axis=1) for g in groups], axis=1
    )
    lo, hi = np.percentile(np.median(means, axis=1), [100 * alpha / 2, 100 * (1 - alpha / 2)])
    return point, float(lo), float(hi)


def probability_of_improvement(
    x_groups: Sequence[np.ndarray], y_groups: Sequence[np.ndarray], reps: int = 1000, seed: int = 0
) -> tuple[float, float, float]:
    """P(X > Y) (ties count half), averaged over strata, with a stratified bootstrap 95% CI."""
    rng = np.random.default_rng(seed)

    def poi(x, y):  # x: (..., n), y: (..., m)
        diff = x[..., :, None] - y[..., None, :]
        return (diff > 0).mean(axis=(-1, -2)) + 0.5 * (diff == 0).mean(axis=(-1, -2))

    point, boot = [], []
    for x, y in zip(x_groups, y_groups, strict=True):
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        point.append(poi(x, y))
        boot.append(
            poi(
                x[rng.integers(0, len(x), (reps, len(x)))],
                y[rng.integers(0, len(y), (reps, len(y)))],
            )
        )
    boot = np.mean(boot, axis=0)
    lo, hi = np.percentile(boot, [2.5, 97.5])
    return float(np.mean(point)), float(lo), float(hi)


def expected_best_of_k(values: np.ndarray) -> np.ndarray:
    """E[max of k values drawn without replacement from ``values``], for k = 1..n (exact).

    With values sorted ascending, the i-th smallest (1-based) is the maximum of a k-subset with
    probability C(i-1, k-1) / C(n, k).
    """
    v = np.sort(np.asarray(values, dtype=np.float64))
    n = len(v)
    out = np.empty(n)
    for k in range(1, n + 1):
        weights = np.array(
            [math.comb(i - 1, k - 1) for i in range(1, n + 1)], dtype=np.float64
        ) / math.comb(n, k)
        out[k - 1] = float(weights @ v)
    return out


def variance_shares(scores: np.ndarray, configs: np.ndarray) -> tuple[float, float]:
    """One-way ANOVA: shares of the total sum of squares between configurations and within them
    (across seeds). They add up to 1."""
    scores = np.asarray(scores, dtype=np.float64)
    total = float(((scores - scores.mean()) ** 2).sum())
    if total <= 0:
        return 0.0, 0.0
    between = sum(
        (configs == c).sum() * (scores[configs == c].mean() - scores.mean()) ** 2
        for c in np.unique(configs)
    )
    return float(between / total), float(1 - between / total)


@dataclass
class Analysis:
    """Everything the report shows; tables are lists of row dicts (written as CSV)."""

    envs: list[str]
    agents: list[str]
    runs: list[dict[str, Any]]
    summary: list[dict[str, Any]]
    aggregate: list[dict[str, Any]]
    improvement: list[dict[str, Any]]
    lottery: list[dict[str, Any]]
    rankings: list[dict[str, Any]]
    importance: list[dict[str, Any]]
    profiles: dict[str, Any] = field(default_factory=dict)
    best_of_k: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    convergence: dict[str, dict[str, dict[str, list[float]]]] = field(default_factory=dict)
    pareto: dict[str, dict[str, list[dict[str, float]]]] = field(default_factory=dict)
    rank_agreement: float | None = None
    #: Per env, what a score of 1 and of 0 are (``{"one": ..., "zero": ...}``, in words).
    scales: dict[str, dict[str, str]] = field(default_factory=dict)
    #: Per env with a weighted-log objective, the metrics its ``median_gap_pct`` combines.
    gaps: dict[str, list[str]] = field(default_factory=dict)
    #: The library versions of the processes that wrote the results.
    versions: list[dict[str, str]] = field(default_factory=list)


def analyse(cells: Sequence[Mapping[str, Any]], envs: Mapping[str, Mapping[str, Any]], *, reps: int = 2000,
            seed: int = 0) -> Analysis:  # fmt: skip
    """Compute every statistic of the report from the stored cells."""
    if not cells:
        from .._errors import ArchGymError

        raise ArchGymError("the results hold no cells yet: run the sweep first")
    env_names = list(dict.fromkeys(c["env_label"] for c in cells))
    agents = list(dict.fromkeys(c["agent"] for c in cells))
    runs = [dict(c) for c in cells]
    scales = _normalise(runs, env_names, envs)
    by = rows_by(runs, "env_label", "agent")
    summary = [_summary_row(env, agent, rs) for (env, agent), rs in by.items()]

    groups = {  # an agent's scores, one array per env (the bootstrap's strata)
        agent: [
            np.array([r["score"] for r in by[(e, agent)]]) for e in env_names if (e, agent) in by
        ]
        for agent in agents
    }
    aggregate = [
        _aggregate_row(agent, groups[agent], reps, seed + i) for i, agent in enumerate(agents)
    ]
    improvement = _improvement(by, env_names, agents, reps, seed)
    lottery = _lottery(summary, env_names)
    rankings, rank_agreement = _rankings(summary, env_names, agents)
    taus_grid = np.linspace(-0.5, 1.0, 61)
    profiles = {"tau": taus_grid.tolist()}
    for agent in agents:
        pooled = np.concatenate(groups[agent])
        # rliable's run-score profile: the share of runs scoring strictly above tau.
        profiles[agent] = [float((pooled > t).mean()) for t in taus_grid]
    best_of_k, convergence, pareto = _curves(by)
    return Analysis(env_names, agents, runs, summary, aggregate, improvement, lottery, rankings,
                    _importance(runs, agents), profiles, best_of_k, convergence, pareto, rank_agreement,
                    scales)  # fmt: skip


def _normalise(
    runs: list[dict[str, Any]], env_names: Sequence[str], envs: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, str]]:
    """Add ``score``, ``regret`` and ``curve_score`` to every run (see the module docstring);
    return, per env, what a score of 1 and of 0 are."""
    scales = {}
    for env in env_names:
        mine = [r for r in runs if r["env_label"] == env]
        rewards = np.array([r["best_reward"] for r in mine])
        info = envs.get(env) or {}
        optimum, recorded = info.get("optimum"), info.get("best_known")
        if optimum is not None:
            upper = float(optimum)
        elif recorded is not None:  # a reference search's best, or this sweep's if better
            upper = max(float(recorded), float(rewards.max()))
        else:
            upper = float(rewards.max())
        randoms = [r["best_reward"] for r in mine if r["agent"] == "random"]
        lower = float(np.median(randoms)) if randoms else float(rewards.min())
        scale = upper - lower if upper - lower > 1e-12 else 1.0
        for r in mine:
            r["score"] = (r["best_reward"] - lower) / scale
            r["regret"] = upper - r["best_reward"]
            r["curve_score"] = [(b - lower) / scale for b in r["curve"]["best"]]
        if optimum is not None:
            one = "the exact optimum"
        elif recorded is not None:
            one = f"the best-known design ({info.get('best_known_search')})"
            if rewards.max() > recorded:
                one += " or this sweep's best run, which beats it"
        else:
            one = "the best run of this sweep"
        zero = (
            "random search's median best at the same budget"
            if randoms
            else "the worst run of this sweep"
        )
        scales[env] = {"one": one, "zero": zero}
    return scales


def _config_means(rs: Sequence[Mapping[str, Any]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(scores, config index per run, mean score per configuration)``."""
    scores = np.array([r["score"] for r in rs])
    configs = np.array([r["config_index"] for r in rs])
    return scores, configs, np.array([scores[configs == c].mean() for c in np.unique(configs)])


#: A configuration whose mean score is below this is *stuck*: further below random search than
#: random search is below the best. The lottery's spread and variance shares leave stuck
#: configurations out and report them apart, so one pathological setting cannot make the lottery.
STUCK = -1.0


def _summary_row(env: str, agent: str, rs: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    scores, configs, means = _config_means(rs)
    ids = np.unique(configs)
    stuck = ids[means < STUCK] if (means >= STUCK).any() else ids[:0]  # all stuck: none apart
    kept = ~np.isin(configs, stuck)
    kept_means = means[~np.isin(ids, stuck)]
    hp_share, seed_share = variance_shares(scores[kept], configs[kept])
    default = scores[configs == 0]
    return {
        "env": env, "agent": agent, "configs": len(means), "seeds": int(len(scores) / max(len(means), 1)),
        "runs": len(scores), "median_score": float(np.median(scores)), "iqm_score": float(iqm(scores)),
        "q25": float(np.percentile(scores, 25)), "q75": float(np.percentile(scores, 75)),
        "default_config_mean": float(default.mean()), "best_config_mean": float(means.max()),
        "worst_config_mean": float(means.min()), "config_spread": float(kept_means.max() - kept_means.min()),
        "stuck_configs": int(len(stuck)), "config_spread_all": float(means.max() - means.min()),
        "hyperparameter_share": hp_share, "seed_share": seed_share,
        "median_regret": float(np.median([r["regret"] for r in rs])),
    }  # fmt: skip


def _aggregate_row(agent: str, groups: list[np.ndarray], reps: int, seed: int) -> dict[str, Any]:
    """IQM (of all runs) and median (of the per-env mean scores), as rliable defines them
    (Agarwal et al., NeurIPS 2021), with stratified bootstrap CIs."""
    point, lo, hi = stratified_bootstrap_ci(groups, iqm, reps, seed=seed)
    med, mlo, mhi = median_of_means_ci(groups, reps, seed=seed)
    return {"agent": agent, "iqm": point, "iqm_lo": lo, "iqm_hi": hi, "median": med,
            "median_lo": mlo, "median_hi": mhi, "runs": int(sum(len(g) for g in groups))}  # fmt: skip


def _improvement(by, env_names, agents, reps: int, seed: int) -> list[dict[str, Any]]:
    """P(a run of one agent beats a run of another), over the envs both ran."""
    out = []
    for a in agents:
        for b in agents:
            shared = [e for e in env_names if (e, a) in by and (e, b) in by]
            if a == b or not shared:
                continue
            xs = [np.array([r["score"] for r in by[(e, a)]]) for e in shared]
            ys = [np.array([r["score"] for r in by[(e, b)]]) for e in shared]
            p, lo, hi = probability_of_improvement(xs, ys, reps=min(reps, 1000), seed=seed)
            out.append({"agent": a, "versus": b, "p_improvement": p, "lo": lo, "hi": hi})
    return out


def _lottery(summary, env_names) -> list[dict[str, Any]]:
    """The spread across one agent's configurations against the spread across agents at their best."""
    out = []
    for env in env_names:
        rows = [s for s in summary if s["env"] == env]
        best = [s["best_config_mean"] for s in rows]
        across_agents = max(best) - min(best)
        for s in rows:
            if s["configs"] > 1:
                out.append({"env": env, "agent": s["agent"], "configs": s["configs"],
                            "stuck_configs": s["stuck_configs"], "spread_across_configs": s["config_spread"],
                            "spread_across_agents_at_best": across_agents,
                            "ratio": s["config_spread"] / across_agents if across_agents > 0 else math.nan})  # fmt: skip
    return out


def _rankings(summary, env_names, agents) -> tuple[list[dict[str, Any]], float | None]:
    """Ranks per env (by IQM, default configuration, best configuration) and their mean Kendall
    tau across envs."""
    rankings, rank_vectors = [], []
    for env in env_names:
        rows = [s for s in summary if s["env"] == env]
        ranks = {key: {s["agent"]: i + 1 for i, s in enumerate(sorted(rows, key=lambda s: -s[key]))}
                 for key in ("iqm_score", "default_config_mean", "best_config_mean")}  # fmt: skip
        for agent in agents:
            if agent in ranks["iqm_score"]:
                rankings.append({"env": env, "agent": agent, "rank_iqm": ranks["iqm_score"][agent],
                                 "rank_default_config": ranks["default_config_mean"][agent],
                                 "rank_best_config": ranks["best_config_mean"][agent]})  # fmt: skip
        rank_vectors.append([ranks["iqm_score"].get(a, len(agents)) for a in agents])
    taus = [sps.kendalltau(rank_vectors[i], rank_vectors[j]).statistic
            for i in range(len(rank_vectors)) for j in range(i + 1, len(rank_vectors))]  # fmt: skip
    return rankings, (float(np.nanmean(taus)) if taus else None)


def _curves(by):
    """Expected best-of-k configurations, convergence bands and Pareto points, per env and agent."""
    best_of_k: dict[str, dict[str, list[float]]] = {}
    convergence: dict[str, dict[str, dict[str, list[float]]]] = {}
    pareto: dict[str, dict[str, list[dict[str, float]]]] = {}
    for (env, agent), rs in by.items():
        _, _, means = _config_means(rs)
        if len(means) > 1:
            best_of_k.setdefault(agent, {})[env] = expected_best_of_k(means).tolist()
        if len({len(r["curve_score"]) for r in rs}) == 1:
            curves = np.array([r["curve_score"] for r in rs])
            convergence.setdefault(env, {})[agent] = {
                "evals": rs[0]["curve"]["evals"], "median": np.median(curves, axis=0).tolist(),
                "q25": np.percentile(curves, 25, axis=0).tolist(), "q75": np.percentile(curves, 75, axis=0).tolist(),
            }  # fmt: skip
        points = [p["metrics"] for r in rs if r.get("pareto") for p in r["pareto"]]
        if points:
            pareto.setdefault(env, {})[agent] = points
    return best_of_k, convergence, pareto


def _importance(runs: Sequence[Mapping[str, Any]], agents: Sequence[str]) -> list[dict[str, Any]]:
    """The fANOVA importance of each agent's hyperparameters for its mean score over envs and seeds."""
    import optuna

    from .._agent import agent_class

    out = []
    for agent in agents:
        mine = [r for r in runs if r["agent"] == agent]
        by_config = rows_by(mine, "config_index")
        if len(by_config) < 4:
            continue
        space = agent_class(agent).hyperparameter_space
        dists = space.optuna_distributions()
        trials = []
        for rs in by_config.values():
            hp = rs[0]["hyperparameters"]
            try:
                params = space.optuna_params(space.validate(hp))
            except Exception:  # noqa: BLE001 - a stored config from an older space: skip it
                continue
            trials.append(optuna.trial.create_trial(params=params, distributions=dists,
                                                    value=float(np.mean([r["score"] for r in rs]))))  # fmt: skip
        if len(trials) < 4:
            continue
        with quiet_optuna():
            study = optuna.create_study(direction="maximize")
            study.add_trials(trials)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                try:
                    importances = optuna.importance.get_param_importances(
                        study, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=0)
                    )
                except (RuntimeError, ValueError):
                    continue  # every varied parameter constant: nothing to attribute
        for name, value in importances.items():
            out.append({"agent": agent, "hyperparameter": name, "importance": float(value),
                        "configs": len(trials)})  # fmt: skip
    return out
