"""The sweep report: one self-contained HTML page (PNG plots embedded), the same as Markdown, and
every table as CSV. The first plot is the lottery itself: every run's score, one colour per
hyperparameter configuration, so the spread across configurations and seeds shows at a glance."""

from __future__ import annotations

import base64
import csv
import html
import io
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import ArchGymError
from .._imports import optional_import
from .._trace import atomic_write_text
from ._stats import Analysis, analyse
from ._store import open_store

#: Below this many configurations an agent's fANOVA importance is flagged as indicative only.
FANOVA_MIN_CONFIGS = 8
SCORE_FLOOR = -1.5  # plots clip scores below this (a run far below random); counts are annotated


def _pyplot():
    matplotlib = optional_import("matplotlib", "the report")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_report(
    results: str | Path, out_dir: str | Path, *, reps: int = 2000, spec=None, progress: bool = False
) -> Path:
    """Analyse a results store and write ``report.html``, ``report.md``, PNGs and CSVs to ``out_dir``.

    Args:
        results: the results store of a sweep (``*.db``).
        out_dir: the folder to write (created).
        reps: bootstrap resamples of the confidence intervals.
        spec: a SweepSpec; when given, only its cells are analysed (a results file may also hold
            cells of an earlier version of the sweep).
        progress: show the stages (analysis, each figure, the pages) on stderr.

    Returns the path of the HTML report.
    """
    cells, envs, versions = load_results(results, spec)
    import sys

    from tqdm import tqdm

    with tqdm(
        total=2 + len(FIGURES), unit="step", disable=not progress, file=sys.stderr, desc="report"
    ) as bar:
        bar.set_postfix_str(f"analysing {len(cells)} runs")
        analysis = analyse(cells, envs, reps=reps)
        analysis.versions = versions
        _add_metric_gaps(analysis, envs)
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        tables = _write_tables(analysis, out)
        bar.update(1)
        figures = _figures(analysis, bar)
        for name, (_, png) in figures.items():
            (out / f"{name}.png").write_bytes(png)
        atomic_write_text(out / "report.md", _markdown(analysis, figures, tables, cells))
        path = out / "report.html"
        atomic_write_text(path, _html(analysis, figures, tables, cells))
        bar.update(1)
    return path


def load_results(
    results: str | Path, spec=None
) -> tuple[list[dict[str, Any]], dict[str, Any], list]:
    """The finished cells of a results store (only ``spec``'s when given), its envs and the
    library versions of the processes that wrote it; an error if it holds none."""
    if not Path(results).exists():  # opening would create an empty store
        raise ArchGymError(f"results file {str(results)!r} does not exist (run the sweep first)")
    with open_store(results) as store:
        cells, envs, versions = store.cells(), store.envs(), store.versions()
    if spec is not None:
        wanted = {c.id for c in spec.cells()}
        cells = [c for c in cells if c["cell_id"] in wanted]
    if not cells:
        raise ArchGymError(f"{results}: holds no finished cells{' of this sweep' if spec is not None else ''}; "
                           "run `archgym sweep` first")  # fmt: skip
    return cells, envs, versions


def _add_metric_gaps(a: Analysis, envs: Mapping[str, Mapping[str, Any]]) -> None:
    """Each summary row's median regret in the metrics' own terms, where the objective allows it.

    For a weighted-log objective, reward = -sum_i w_i ln(m_i / m_ref), so a regret r between two
    feasible designs means the weighted geometric mean of the metrics is exp(r / sum w) times the
    best's: ``median_gap_pct`` = that excess in percent (a run whose best design breaks a budget
    carries its penalty into the regret). Target objectives: left empty.
    """
    from .._env import resolve_spec
    from ..envs import ENVS

    gaps: dict[str, tuple[float, list[str]]] = {}
    for label, env in envs.items():
        try:  # the objective from the env spec alone: no simulator is built to read its weights
            spec = resolve_spec(ENVS[env["env_id"]])
            objective = spec.objective(
                (env.get("env_kwargs") or {}).get("objective"), spec.domain.metrics
            )
        except Exception:  # noqa: BLE001 - an env no longer installed: its rows keep no gap
            continue
        if objective.kind == "weighted_log":
            gaps[label] = (
                float(sum(abs(w) for w in objective.weights.values())),
                list(objective.weights),
            )
    for row in a.summary:
        total = gaps.get(row["env"], (None,))[0]
        row["median_gap_pct"] = 100 * math.expm1(row["median_regret"] / total) if total else None
    a.gaps = {label: metrics for label, (_, metrics) in gaps.items()}


# --------------------------------------------------------------------------- tables
def _write_tables(a: Analysis, out: Path) -> dict[str, list[dict[str, Any]]]:
    runs = [{k: r[k] for k in ("env_label", "agent", "config_index", "seed", "best_reward", "score", "regret",
                                "wall_time_s")} | {"hyperparameters": r["hyperparameters"]} for r in a.runs]  # fmt: skip
    tables = {"runs": runs, "summary": a.summary, "aggregate": a.aggregate, "lottery": a.lottery,
              "improvement": a.improvement, "rankings": a.rankings, "importance": a.importance}  # fmt: skip
    for name, rows in tables.items():
        if not rows:
            continue
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: _csv_cell(v) for k, v in row.items()} for row in rows)
        atomic_write_text(out / f"{name}.csv", buf.getvalue())
    return tables


# --------------------------------------------------------------------------- figures
def _env_grid(plt, n: int, *, width: float, height: float, max_cols: int = 2):
    """One panel per env, at most ``max_cols`` per row (wide rows shrink unreadably in a page);
    unused panels are hidden. Returns the figure and the flat list of axes."""
    cols = min(n, max_cols)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    flat = list(axes.ravel())
    for ax in flat[n:]:
        ax.set_visible(False)
    if rows > 1:
        fig.subplots_adjust(hspace=0.55)  # room for rotated tick labels above the next row's title
    return fig, flat


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    _pyplot().close(fig)
    return buf.getvalue()


def _figures(a: Analysis, bar=None) -> dict[str, tuple[str, bytes]]:
    """The report's figures, in order: each adds its ``(caption, PNG)`` to ``figs`` (or nothing)."""
    plt = _pyplot()
    colors = plt.get_cmap("tab10")
    figs: dict[str, tuple[str, bytes]] = {}
    for figure in FIGURES:
        if bar is not None:
            bar.set_postfix_str(figure.__name__[5:])
        figure(plt, colors, a, figs)
        if bar is not None:
            bar.update(1)
    return figs


def _fig_lottery(plt, colors, a: Analysis, figs: dict[str, tuple[str, bytes]]) -> None:
    """The lottery: every run, one column per agent, one colour per configuration."""
    fig, axes = _env_grid(plt, len(a.envs), width=1.1 * len(a.agents) + 1, height=4.2)
    rng = np.random.default_rng(0)
    for ax, env in zip(axes, a.envs, strict=False):
        for x, agent in enumerate(a.agents):
            rs = [r for r in a.runs if r["env_label"] == env and r["agent"] == agent]
            if not rs:
                continue
            scores = np.array([r["score"] for r in rs])
            ax.boxplot(np.clip(scores, SCORE_FLOOR, None), positions=[x], widths=0.6, showfliers=False,
                       medianprops={"color": "black"})  # fmt: skip
            for r in rs:
                c = r["config_index"]
                ax.scatter(x + rng.uniform(-0.22, 0.22), max(r["score"], SCORE_FLOOR), s=14, alpha=0.8,
                           color=colors(c % 10), edgecolors="black" if c == 0 else "none", linewidths=0.6)  # fmt: skip
            low = int((scores < SCORE_FLOOR).sum())
            if low:
                ax.annotate(f"{low} below", (x, SCORE_FLOOR), ha="center", va="top", fontsize=7,
                            xytext=(0, -2), textcoords="offset points")  # fmt: skip
        ax.axhline(1.0, color="green", lw=0.8, ls="--")
        ax.axhline(0.0, color="grey", lw=0.8, ls=":")
        ax.set_xticks(range(len(a.agents)), a.agents, rotation=35, ha="right")
        ax.set_title(env)
        ax.set_ylim(SCORE_FLOOR - 0.15, 1.1)
        scale = a.scales.get(env, {})
        ax.set_ylabel(f"normalised best score\n(1 = {scale.get('one', '?')},\n0 = {scale.get('zero', '?')})",
                      fontsize=7)  # fmt: skip
    fig.suptitle(
        "The hyperparameter lottery: every run (colour = configuration, black edge = defaults)"
    )
    n_configs = max(r["config_index"] for r in a.runs) + 1
    handles = [plt.Line2D([], [], ls="", marker="o", markersize=5, color=colors(c % 10),
                          markeredgecolor="black" if c == 0 else "none",
                          label="configuration 0 (defaults)" if c == 0 else f"configuration {c}")
               for c in range(min(n_configs, 10))]  # fmt: skip
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 5), fontsize=7, frameon=False,
               bbox_to_anchor=(0.5, -0.04 if len(a.envs) <= 2 else -0.02))  # fmt: skip
    figs["lottery"] = ("Every run's best-found score. Each colour is one hyperparameter configuration; "
                       "the spread within a column is the lottery.", _png(fig))  # fmt: skip


def _fig_iqm(plt, colors, a: Analysis, figs: dict[str, tuple[str, bytes]]) -> None:
    """IQM with 95% stratified bootstrap CIs."""
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(a.agents) + 1))
    agg = sorted(a.aggregate, key=lambda r: r["iqm"])
    ys = np.arange(len(agg))
    ax.errorbar([r["iqm"] for r in agg], ys, xerr=[[r["iqm"] - r["iqm_lo"] for r in agg], [r["iqm_hi"] - r["iqm"] for r in agg]],
                fmt="o", color="black", capsize=3)  # fmt: skip
    ax.set_yticks(ys, [r["agent"] for r in agg])
    ax.axvline(0, color="grey", ls=":")
    ax.axvline(1, color="green", ls="--")
    ax.set_xlabel("IQM of normalised score over configurations, seeds and envs (95% CI)")
    figs["iqm"] = ("Interquartile mean over all runs (every configuration and seed) with stratified bootstrap "
                   "95% confidence intervals.", _png(fig))  # fmt: skip


def _fig_profiles(plt, colors, a: Analysis, figs: dict[str, tuple[str, bytes]]) -> None:
    """Performance profiles."""
    fig, ax = plt.subplots(figsize=(6, 4))
    for i, agent in enumerate(a.agents):
        ax.plot(a.profiles["tau"], a.profiles[agent], label=agent, color=colors(i % 10))
    ax.set_xlabel("score threshold tau")
    ax.set_ylabel("fraction of runs with score >= tau")
    ax.legend(fontsize=7)
    figs["profiles"] = (
        "Performance profiles: the fraction of runs reaching each score.",
        _png(fig),
    )


def _fig_best_of_k(plt, colors, a: Analysis, figs: dict[str, tuple[str, bytes]]) -> None:
    """Expected best of k configurations."""
    if a.best_of_k:
        fig, ax = plt.subplots(figsize=(6, 4))
        for i, agent in enumerate(a.agents):
            curves = list(a.best_of_k.get(agent, {}).values())
            if curves:
                n = min(len(c) for c in curves)
                mean = np.mean([c[:n] for c in curves], axis=0)
                ax.plot(range(1, n + 1), mean, marker="o", label=agent, color=colors(i % 10))
        ax.set_xlabel("configurations tried (k)")
        ax.set_ylabel("expected best mean score")
        ax.legend(fontsize=7)
        figs["best_of_k"] = ("Expected best of k hyperparameter configurations (mean over seeds, averaged over "
                             "envs): how much tuning an agent needs.", _png(fig))  # fmt: skip


def _fig_variance(plt, colors, a: Analysis, figs: dict[str, tuple[str, bytes]]) -> None:
    """Variance shares."""
    fig, ax = plt.subplots(figsize=(6, 0.45 * len(a.agents) + 1))
    shares = []
    for agent in a.agents:
        rows = [s for s in a.summary if s["agent"] == agent and s["configs"] > 1]
        shares.append(
            (agent, np.mean([s["hyperparameter_share"] for s in rows]) if rows else np.nan)
        )
    ys = np.arange(len(shares))
    hp = np.array([s for _, s in shares])
    ax.barh(ys, np.nan_to_num(hp), color="tab:red", label="between configurations")
    ax.barh(
        ys,
        np.where(np.isnan(hp), 0, 1 - hp),
        left=np.nan_to_num(hp),
        color="tab:blue",
        label="between seeds",
    )
    ax.set_yticks(ys, [f"{ag}{' (1 config)' if np.isnan(s) else ''}" for ag, s in shares])
    ax.set_xlabel("share of score variance")
    ax.legend(fontsize=7, loc="lower right")
    figs["variance"] = ("Share of each agent's score variance due to its hyperparameters versus its seed "
                        "(one-way ANOVA, averaged over envs).", _png(fig))  # fmt: skip


def _fig_convergence(plt, colors, a: Analysis, figs: dict[str, tuple[str, bytes]]) -> None:
    """Convergence."""
    fig, axes = _env_grid(plt, len(a.envs), width=5, height=3.8)
    for ax, env in zip(axes, a.envs, strict=False):
        for i, agent in enumerate(a.agents):
            c = a.convergence.get(env, {}).get(agent)
            if c:
                ax.plot(
                    c["evals"],
                    np.clip(c["median"], SCORE_FLOOR, None),
                    label=agent,
                    color=colors(i % 10),
                )
                ax.fill_between(c["evals"], np.clip(c["q25"], SCORE_FLOOR, None), np.clip(c["q75"], SCORE_FLOOR, None),
                                color=colors(i % 10), alpha=0.15)  # fmt: skip
        ax.set_title(env)
        ax.set_xlabel("simulator evaluations")
        ax.set_ylim(SCORE_FLOOR - 0.15, 1.1)
        ax.set_ylabel("best-so-far score (median, IQR band)", fontsize=8)
    axes[0].legend(fontsize=7)
    figs["convergence"] = ("Convergence: median best-so-far score with its interquartile band over all "
                           "configurations and seeds.", _png(fig))  # fmt: skip


def _fig_improvement(plt, colors, a: Analysis, figs: dict[str, tuple[str, bytes]]) -> None:
    """Probability of improvement."""
    if a.improvement:
        n = len(a.agents)
        matrix = np.full((n, n), np.nan)
        for r in a.improvement:
            matrix[a.agents.index(r["agent"]), a.agents.index(r["versus"])] = r["p_improvement"]
        fig, ax = plt.subplots(figsize=(0.6 * n + 2, 0.6 * n + 1.5))
        im = ax.imshow(matrix, cmap="RdBu", vmin=0, vmax=1)
        ax.set_xticks(range(n), a.agents, rotation=45, ha="right")
        ax.set_yticks(range(n), a.agents)
        for i in range(n):
            for j in range(n):
                if not np.isnan(matrix[i, j]):
                    ax.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", fontsize=7)
        ax.set_xlabel("versus")
        fig.colorbar(im, ax=ax, label="P(row's run beats column's run)")
        figs["improvement"] = ("Probability of improvement: the chance that a random run of the row agent beats "
                               "one of the column agent (stratified by env).", _png(fig))  # fmt: skip


def _fig_importance(plt, colors, a: Analysis, figs: dict[str, tuple[str, bytes]]) -> None:
    """Hyperparameter importance."""
    if a.importance:
        agents = list(dict.fromkeys(r["agent"] for r in a.importance))
        # Two panels per row, wide enough for the hyperparameter names on each panel's y axis.
        cols = min(2, len(agents))
        rows_n = -(-len(agents) // cols)
        fig, axes = plt.subplots(rows_n, cols, figsize=(6.0 * cols, 2.8 * rows_n), squeeze=False,
                                 layout="constrained")  # fmt: skip
        for ax in axes.ravel()[len(agents) :]:
            ax.set_visible(False)
        for ax, agent in zip(axes.ravel(), agents, strict=False):
            rows = sorted(
                (r for r in a.importance if r["agent"] == agent), key=lambda r: r["importance"]
            )
            ax.barh(
                [r["hyperparameter"] for r in rows],
                [r["importance"] for r in rows],
                color="tab:purple",
            )
            configs = rows[0].get("configs", "?") if rows else "?"
            ax.set_title(f"{agent} ({configs} configurations)", fontsize=9)
        figs["importance"] = (
            "fANOVA importance of each hyperparameter for the agent's mean score.",
            _png(fig),
        )


def _fig_pareto(plt, colors, a: Analysis, figs: dict[str, tuple[str, bytes]]) -> None:
    """Pareto fronts of multi-objective agents."""
    if a.pareto:
        fig, axes = plt.subplots(1, len(a.pareto), figsize=(5 * len(a.pareto), 4), squeeze=False)
        for ax, (env, per_agent) in zip(axes[0], a.pareto.items(), strict=True):
            for i, (agent, points) in enumerate(per_agent.items()):
                keys = list(points[0])[:2]
                ax.scatter([p[keys[0]] for p in points], [p[keys[1]] for p in points], s=10, label=agent,
                           color=colors(i % 10))  # fmt: skip
                ax.set_xlabel(keys[0])
                ax.set_ylabel(keys[1])
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_title(env)
            ax.legend(fontsize=7)
        figs["pareto"] = (
            "Pareto-front designs found by the multi-objective agents (every run).",
            _png(fig),
        )


# --------------------------------------------------------------------------- text
def _headline(a: Analysis, cells: Sequence[dict]) -> list[str]:
    lines = [f"{len(cells)} runs: {len(a.envs)} envs x {len(a.agents)} agents x their hyperparameter "
             f"configurations x seeds, budget {cells[0]['budget']} simulator evaluations each."]  # fmt: skip
    for env, scale in a.scales.items():
        lines.append(f"{env}: a score of 1 is {scale['one']}, 0 is {scale['zero']}; scores are in units of "
                     "that gap (reward, not the metric itself).")  # fmt: skip
        rows = [s for s in a.summary if s["env"] == env and s.get("median_gap_pct") is not None]
        if rows:
            metrics = " x ".join(a.gaps.get(env, []))
            gaps = ", ".join(
                f"{s['agent']} +{s['median_gap_pct']:.1f}%"
                for s in sorted(rows, key=lambda s: s["median_gap_pct"])
            )
            lines.append(f"{env}, in the metrics' own terms (the median run's best design against {scale['one']}, "
                         f"weighted geometric mean of {metrics}): {gaps}.")  # fmt: skip
    thin = sorted({r["agent"] for r in a.importance if r.get("configs", 99) < FANOVA_MIN_CONFIGS})
    if thin:
        lines.append(f"Hyperparameter importance for {', '.join(thin)} comes from fewer than "
                     f"{FANOVA_MIN_CONFIGS} configurations: indicative only.")  # fmt: skip
    if a.versions:
        shown = "; ".join(", ".join(f"{k} {v}" for k, v in sorted(v.items())) for v in a.versions)
        several = " (several library versions wrote these results)" if len(a.versions) > 1 else ""
        lines.append(f"Library versions{several}: {shown}.")
    for env in a.envs:
        rows = [r for r in a.lottery if r["env"] == env]
        if rows:
            worst = max(rows, key=lambda r: r["spread_across_configs"])
            lines.append(
                f"{env}: the spread of one agent's mean score across its configurations reaches "
                f"{worst['spread_across_configs']:.2f} ({worst['agent']}), against {worst['spread_across_agents_at_best']:.2f} "
                f"across agents at their best configurations (ratio {worst['ratio']:.2f})."
            )
    for s in a.summary:
        if s.get("stuck_configs"):
            lines.append(f"{s['env']}: {s['agent']} has {s['stuck_configs']} stuck configuration(s) (mean score "
                         f"below -1: worse than random by more than random's gap to the best), left out of its "
                         f"spread and variance shares; with them its spread is {s['config_spread_all']:.2f}.")  # fmt: skip
    random = next((r for r in a.aggregate if r["agent"] == "random"), None)
    if random is not None:
        above = [
            r for r in a.aggregate if r["agent"] != "random" and r["iqm_lo"] > random["iqm_hi"]
        ]
        lines.append(
            "Agents whose IQM interval lies above random search's "
            f"({random['iqm_lo']:.2f} to {random['iqm_hi']:.2f}): "
            + (
                ", ".join(f"{r['agent']} ({r['iqm_lo']:.2f} to {r['iqm_hi']:.2f})" for r in above)
                or "none"
            )
            + "."
        )
    shares = [s["hyperparameter_share"] for s in a.summary if s["configs"] > 1]
    if shares:
        lines.append(f"Hyperparameters explain a median {np.median(shares):.0%} of an agent's score variance; "
                     f"seeds the rest.")  # fmt: skip
    if a.rank_agreement is not None:
        lines.append(
            f"Agent rankings agree across envs with mean Kendall tau {a.rank_agreement:.2f}."
        )
    return lines


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.3g}"
    if isinstance(v, dict):
        return ", ".join(f"{k}={_fmt(x)}" for k, x in v.items())
    return str(v)


def _csv_cell(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR) gets a
    leading apostrophe (OWASP's CSV-injection advice); numbers are left alone."""
    text = value if isinstance(value, str) else None
    if text and text[0] in "=+-@\t\r":
        return "'" + text
    return value


def _md_text(value: Any) -> str:
    """Text for a Markdown table cell: HTML escaped (labels are user input: a `<script>` must not
    reach a renderer that allows HTML), pipes escaped, one line."""
    return html.escape(_fmt(value), quote=False).replace("|", "\\|").replace("\n", " ")


def _md_table(rows: list[dict[str, Any]], limit: int = 60) -> str:
    if not rows:
        return "_(none)_\n"
    keys = list(rows[0])
    out = ["| " + " | ".join(_md_text(k) for k in keys) + " |", "|" + "---|" * len(keys)]
    out += ["| " + " | ".join(_md_text(r[k]) for k in keys) + " |" for r in rows[:limit]]
    return "\n".join(out) + "\n"


def _html_table(rows: list[dict[str, Any]], limit: int = 200) -> str:
    if not rows:
        return "<p><em>(none)</em></p>"
    keys = list(rows[0])
    # Long column names may break after an underscore (<wbr>), so a wide table fits the page.
    head = "".join(f"<th>{html.escape(k).replace('_', '_<wbr>')}</th>" for k in keys)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(_fmt(r[k]))}</td>" for k in keys) + "</tr>"
        for r in rows[:limit]
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


_SECTIONS = (("summary", "Per env and agent"), ("aggregate", "Aggregate over envs (IQM, 95% CI)"),
             ("lottery", "The lottery: spread across configurations vs across agents"),
             ("rankings", "Rankings per env"), ("importance", "Hyperparameter importance (fANOVA)"),
             ("improvement", "Probability of improvement"))  # fmt: skip


def _markdown(a: Analysis, figures, tables, cells) -> str:
    parts = [
        "# Hyperparameter lottery report\n",
        *[f"- {_md_text(line)}" for line in _headline(a, cells)],
        "",
    ]
    for name, (caption, _) in figures.items():
        parts += [f"![{name}]({name}.png)\n", f"_{_md_text(caption)}_\n"]
    for key, title in _SECTIONS:
        parts += [f"## {title}\n", _md_table(tables[key]), f"CSV: [{key}.csv]({key}.csv)\n"]
    return "\n".join(parts)


def _html(a: Analysis, figures, tables, cells) -> str:
    style = ("body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;color:#222}"
             "table{border-collapse:collapse;font-size:11px;margin:1em 0}td,th{border:1px solid #ccc;padding:2px 4px}"
             "th{vertical-align:bottom}"
             "th{background:#f3f3f3}figure{margin:1.5em 0}figcaption{color:#555;font-size:13px}img{max-width:100%}")  # fmt: skip
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Hyperparameter lottery</title><style>{style}</style>"
             "</head><body><h1>Hyperparameter lottery report</h1><ul>"]  # fmt: skip
    parts += [f"<li>{html.escape(line)}</li>" for line in _headline(a, cells)]
    parts.append("</ul>")
    for name, (caption, png) in figures.items():
        data = base64.b64encode(png).decode()
        parts.append(f"<figure><img alt='{name}' src='data:image/png;base64,{data}'><figcaption>{html.escape(caption)}"
                     "</figcaption></figure>")  # fmt: skip
    for key, title in _SECTIONS:
        parts.append(
            f"<h2>{html.escape(title)}</h2>{_html_table(tables[key])}<p><a href='{key}.csv'>{key}.csv</a></p>"
        )
    parts.append("</body></html>")
    return "".join(parts)


#: The report's figures, in the order they appear.
FIGURES = (_fig_lottery, _fig_iqm, _fig_profiles, _fig_best_of_k, _fig_variance, _fig_convergence,
           _fig_improvement, _fig_importance, _fig_pareto)  # fmt: skip
