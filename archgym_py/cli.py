"""The ``archgym`` command line: ``envs``, ``eval``, ``collect``, ``surrogate``, ``agents``, ``run``,
``sweep``, ``report``, ``demo``.

Examples::

    archgym envs
    archgym eval archgym/Accelerator-v0 --workload resnet18 --design pe_rows=16 pe_cols=16 glb_kib=256
    archgym collect archgym/Accelerator-v0 -n 10000 --method sobol -o traces/acc.csv
    archgym surrogate fit traces/acc.csv -o models/acc      # held-out scores in models/acc/card.yaml
    archgym surrogate score models/acc traces/acc_more.csv
    archgym eval archgym/Accelerator-v0 --backend surrogate --surrogate models/acc
    archgym agents -v
    archgym run ga archgym/Accelerator-v0 --budget 2000 --seed 1 --hp population=64 -o ga.json
    archgym sweep quick -o quick.db --workers 2      # kill it at any time; add --resume to go on
    archgym report quick.db -o report/
    archgym demo                                      # the quick lottery and its report
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Sequence
from typing import Any

from ._errors import ArchGymError, DesignError


def _env_kwargs(args: argparse.Namespace) -> dict[str, Any]:
    names = ("workload", "arch", "objective", "backend", "surrogate", "trace")
    return {k: getattr(args, k) for k in names if getattr(args, k, None)}


def _make_core(env_id: str, args: argparse.Namespace):
    from ._env import make_core

    return make_core(env_id, **_env_kwargs(args))


def _parse_design(pairs: Sequence[str], option: str = "--design") -> dict[str, str]:
    design = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise DesignError(f"{option}: expected name=value, got {pair!r}")
        design[key.strip()] = value.strip()
    return design


def cmd_envs(args: argparse.Namespace) -> int:
    """``archgym envs``: every env id, and with -v its workloads, archs, objectives and knobs."""
    from ._env import resolve_spec
    from .envs import ENVS

    width = max(len(i) for i in ENVS)
    for env_id, spec_path in ENVS.items():
        spec = resolve_spec(spec_path)
        print(f"{env_id:<{width}}  {spec.description}")
        if args.verbose:
            domain = spec.domain
            print(f"{'':<{width}}  workloads: {', '.join(domain.workload_names())}")
            print(
                f"{'':<{width}}  archs: {', '.join(domain.arch_names())}; objectives: {', '.join(spec.objectives)}"
            )
            for p in spec.space:
                levels = list(p.choices)
                shown = levels if len(levels) <= 8 else levels[:3] + ["..."] + levels[-2:]
                print(f"{'':<{width}}    {p.name:<24} {p.kind:<11} {shown} {p.unit}")
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    """``archgym eval``: one design's metrics, reward and (with --details) the domain's breakdown."""
    core = _make_core(args.env, args)
    given = _parse_design(args.design or [])
    batch = core.base_batch(given)  # knobs not given: the base architecture's own values
    design = core.space.unbatch(batch)[0]
    off_grid = {k: v for k, v in core.off_grid.items() if k not in given}
    ev, reward, feasible, done = core.evaluate(batch)
    domain = core.spec.domain
    # The domain says what its details are and how they print (surrogates have their own).
    details = domain.details(core.simulator, batch, core.workload) if args.details else {}
    result = {
        "env": args.env,
        "workload": core.workload.name,
        "arch": core.arch.name,
        "design": design,
        "metrics": ev.row(0),
        "units": {m.name: m.unit for m in core.metric_specs},
        "feasible": bool(feasible[0]),
        "reward": float(reward[0]),
        "objective": core.objective.name,
        "off_grid": {k: {"value": v, "nearest_level": lv} for k, (v, lv) in off_grid.items()},
    }
    if args.json:
        if details:
            result["details"] = domain.json_details(details)
        print(json.dumps(result, indent=2))
        return 0
    print(f"{args.env}  workload={result['workload']}  arch={result['arch']}")
    print("design: " + ", ".join(f"{k}={v}" for k, v in design.items()))
    for name, (value, level) in off_grid.items():
        print(f"  note: {name}={value} is the architecture's own value, off the space's levels "
              f"(episodes start from {level})")  # fmt: skip
    for m in core.metric_specs:
        print(f"  {m.name:<14} {ev.metrics[m.name][0]:>14.6g} {m.unit:<6} ({m.direction})")
    print(f"  {'feasible':<14} {bool(feasible[0])!s:>14}")
    print(f"  {'reward':<14} {float(reward[0]):>14.6g}        (objective {core.objective.name!r})")
    for line in domain.describe_details(details) if details else ():
        print(line)
    return 0


def cmd_collect(args: argparse.Namespace) -> int:
    """``archgym collect``: sample designs, evaluate them, append them to a trace."""
    from tqdm import tqdm

    from ._trace import TraceStore

    if args.n < 1:
        raise ArchGymError(f"-n: got {args.n}; expected a positive number of designs")
    if args.batch < 1:
        raise ArchGymError(
            f"--batch: got {args.batch}; expected a positive number of designs per call"
        )
    core = _make_core(args.env, args)
    core.trace = TraceStore(args.output).bind(
        simulator_version=core.simulator.version, space_hash=core.space.hash()
    )
    designs = core.space.sample(args.n, seed=args.seed, method=args.method)
    start = time.perf_counter()
    with tqdm(total=args.n, unit="design", disable=args.quiet, file=sys.stderr) as bar:
        # At most --batch designs per call, and at least ~100 progress updates over the run.
        step = min(args.batch, max(16, args.n // 100))
        for lo in range(0, args.n, step):
            chunk = {k: v[lo : lo + step] for k, v in designs.items()}
            core.evaluate(chunk)
            bar.update(len(next(iter(chunk.values()))))
    elapsed = time.perf_counter() - start
    print(f"wrote {args.n} evaluations of {args.env} ({core.workload.name}) to {args.output} "
          f"in {elapsed:.2f} s ({args.n / elapsed:,.0f} designs/s)")  # fmt: skip
    return 0


def _print_scores(scores: dict[str, dict[str, float]], units: dict[str, str]) -> None:
    from .surrogate import SCORES

    print(f"  {'metric':<16} {'unit':<5} " + " ".join(f"{s:>17}" for s in SCORES))
    for metric, row in scores.items():
        cells = " ".join(
            f"{'n/a':>17}" if row[s] is None or row[s] != row[s]  # undefined (constant metric)
            else f"{row[s] * 100:>16.3f}%" if s in ("nrmse", "mape") else f"{row[s]:>17.4g}"
            for s in SCORES
        )  # fmt: skip
        print(f"  {metric:<16} {units.get(metric, ''):<5} {cells}")


def cmd_surrogate_fit(args: argparse.Namespace) -> int:
    """``archgym surrogate fit``: fit a surrogate on traces and save it with its card."""
    from .surrogate import dataset_from_trace, fit_surrogate, split

    data = dataset_from_trace(
        args.trace, env=args.env, **({"arch": args.arch} if args.arch else {})
    )
    train, test = split(data, args.split, test_fraction=args.test_fraction, seed=args.seed)
    print(f"{len(data)} rows of {data.env_id} ({', '.join(data.workload_names)}); {args.split} split: "
          f"{len(train)} train, {len(test)} held out")  # fmt: skip
    params = _parse_design(args.param or [], "--param")
    fit_rows, calibration = data.subset(train), None
    if args.calibrate:
        if not 0.0 < args.calibrate < 1.0:
            raise ArchGymError(f"--calibrate: got {args.calibrate}; expected a share in (0, 1)")
        keep, cal = split(fit_rows, "twin_free", test_fraction=args.calibrate, seed=args.seed)
        fit_rows, calibration = fit_rows.subset(keep), fit_rows.subset(cal)
        print(f"  {len(calibration)} of them calibrate the interval, {len(fit_rows)} fit the model")
    model = fit_surrogate(
        fit_rows, args.family, params={k: _literal(v) for k, v in params.items()} or None,
        seed=args.seed, cv=args.cv, test=data.subset(test), source=", ".join(args.trace),
        calibration=calibration,
        on_stage=lambda line: print(f"  {line}", file=sys.stderr, flush=True),
        workload_encoding=args.workload_encoding,
    )  # fmt: skip
    model.save(args.output)
    card = model.card
    print(f"family {card['family']} (cross-validated: "
          + ", ".join(f"{k} {v:.4f}" for k, v in card["cross_validation"]["rmse_standardised"].items())
          + f"), fit in {card['training']['fit_time_s']:.1f} s; held-out scores:")  # fmt: skip
    _print_scores(card["held_out"]["scores"], {m.name: m.unit for m in model.metrics})
    print(f"wrote {args.output}/model.json and card.yaml")
    return 0


def cmd_surrogate_score(args: argparse.Namespace) -> int:
    """``archgym surrogate score``: score a saved surrogate on traces."""
    from .surrogate import dataset_from_trace, load_surrogate

    model = load_surrogate(args.model)
    data = dataset_from_trace(args.trace, env=model.card.get("env_id") or None,
                              **({"arch": model.card["arch"]} if model.card.get("arch") else {}))  # fmt: skip
    model.check_compatible(data.space, what=f"trace {args.trace[0]!r}")
    print(f"{model.version} on {len(data)} rows of {', '.join(args.trace)}:")
    _print_scores(model.score(data), {m.name: m.unit for m in model.metrics})
    return 0


def cmd_surrogate_onnx(args: argparse.Namespace) -> int:
    """``archgym surrogate onnx``: export a saved MLP surrogate as an ONNX graph."""
    from .surrogate import load_surrogate

    model = load_surrogate(args.model)
    path = model.to_onnx(args.output)
    print(f"{model.version} -> {path}: input 'features' (n, {len(model.feature_names)}) in the "
          f"order of card.yaml's features; outputs mean, lower, upper "
          f"({', '.join(model.metric_names)}){', feasible' if model.learns_feasibility else ''}")  # fmt: skip
    return 0


def _literal(text: str) -> Any:
    from ._spec import parse_yaml

    return parse_yaml(text)


def cmd_agents(args: argparse.Namespace) -> int:
    """``archgym agents``: the registered agents and (with -v) their hyperparameters."""
    from ._agent import agent_class, agent_names

    for name in agent_names():
        cls = agent_class(name)
        tags = ", ".join(
            t
            for t, on in (("baseline", cls.baseline), ("multi-objective", cls.multi_objective))
            if on
        )
        print(f"{name:<14} {cls.description}{f' ({tags})' if tags else ''}")
        if args.verbose:
            for p in cls.hyperparameter_space:
                levels = list(p.choices)
                shown = f"[{p.low}, {p.high}]{' log' if getattr(p, 'log', False) else ''}" if p.kind == "real" else (
                    levels if len(levels) <= 6 else f"{levels[0]}..{levels[-1]}")  # fmt: skip
                print(
                    f"    {p.name:<24} {p.kind:<11} default={p.resolved_default()!r:<10} {shown}  {p.doc}"
                )
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    """``archgym run``: one agent run, written as JSON."""
    from tqdm import tqdm

    from ._agent import make_agent

    env_kwargs = _env_kwargs(args)
    agent = make_agent(
        args.agent,
        args.env,
        _parse_design(args.hp or [], "--hp"),
        seed=args.seed,
        env_kwargs=env_kwargs,
    )
    with tqdm(total=args.budget, unit="eval", disable=args.quiet, file=sys.stderr) as bar:
        result = agent.run(args.budget, progress=bar.update)
    if args.output:
        result.save(args.output)
    overhead = (result.wall_time_s - result.simulator_time_s) / result.evaluations * 1e3
    print(f"{args.agent} on {args.env}: best reward {result.best_reward:.4f} "
          f"({sum(result.feasible)} of {result.evaluations} designs feasible)")  # fmt: skip
    print("best design: " + ", ".join(f"{k}={v}" for k, v in result.best_design.items()))
    print("best metrics: " + ", ".join(f"{k}={v:.4g}" for k, v in result.best_metrics.items()))
    if result.pareto is not None:
        print(f"Pareto front: {len(result.pareto)} designs")
    print(f"wall {result.wall_time_s:.2f} s, simulator {result.simulator_time_s:.2f} s, "
          f"agent overhead {overhead:.3f} ms/evaluation" + (f"; wrote {args.output}" if args.output else ""))  # fmt: skip
    return 0


def _executor(args: argparse.Namespace):
    if not getattr(args, "dask", None):
        return None
    from ._imports import optional_import

    distributed = optional_import("distributed", "--dask")
    return distributed.Client(args.dask).get_executor()


def cmd_sweep(args: argparse.Namespace) -> int:
    """``archgym sweep``: run (or resume) a sweep into a results store."""
    import signal

    from .sweep import load_sweep, run_sweep

    spec = load_sweep(args.spec)
    output = args.output or f"{spec.name}.db"

    def on_sigterm(signum, frame):  # stop as Ctrl-C does: workers stopped, stored cells kept
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_sigterm)
    summary = run_sweep(spec, output, workers=args.workers, executor=_executor(args), resume=args.resume,
                        progress=not args.quiet)  # fmt: skip
    print(f"sweep {spec.name!r}: {summary.total} cells, {summary.already_done} already stored, {summary.ran} run "
          f"in {summary.wall_time_s:.1f} s ({summary.overhead_per_cell_s * 1e3:.1f} ms scheduling overhead per cell); "
          f"results in {output}")  # fmt: skip
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    """``archgym report``: the lottery report of a results store."""
    from .sweep import load_sweep
    from .sweep._report import write_report

    spec = load_sweep(args.spec) if args.spec else None
    path = write_report(args.results, args.output, spec=spec, progress=not args.quiet)
    print(f"wrote {path} (and report.md, PNG plots, CSV tables in {path.parent})")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """``archgym compare``: agents x seeds on one env, the comparison printed (a sweep underneath)."""
    import tempfile
    from pathlib import Path

    import numpy as np

    from .sweep import run_sweep, sweep_from_dict
    from .sweep._report import _fmt, load_results
    from .sweep._stats import analyse

    kwargs = {"workload": args.workload} if args.workload else {}
    label = args.env.split("/")[-1]
    spec = sweep_from_dict({"spec_version": 1, "name": "compare", "budget": args.budget, "seeds": args.seeds,
                            "envs": [{"id": args.env, "label": label, "kwargs": kwargs}],
                            "agents": [{"name": a} for a in dict.fromkeys(args.agents)]}, path="compare")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        results = Path(args.output) if args.output else Path(tmp) / "compare.db"
        run_sweep(
            spec, results, workers=args.workers, resume=results.exists(), progress=not args.quiet
        )
        cells, envs, _ = load_results(results, spec)
        analysis = analyse(cells, envs, reps=1000)
    scale = analysis.scales[label]
    print(
        f"{args.env}, budget {args.budget}, {args.seeds} seeds; score 1 = {scale['one']}, 0 = {scale['zero']}"
    )
    print(
        f"{'agent':<14} {'runs':>5} {'IQM score [95% CI]':>26} {'median best reward':>19} {'median regret':>14}"
    )
    by_agent = {r["agent"]: r for r in analysis.aggregate}
    for row in analysis.summary:
        agg = by_agent[row["agent"]]
        rewards = [c["best_reward"] for c in cells if c["agent"] == row["agent"]]
        ci = f"{_fmt(agg['iqm'])} [{_fmt(agg['iqm_lo'])}, {_fmt(agg['iqm_hi'])}]"
        print(f"{row['agent']:<14} {row['runs']:>5} {ci:>26} {_fmt(float(np.median(rewards))):>19} "
              f"{_fmt(row['median_regret']):>14}")  # fmt: skip
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    """``archgym demo``: the quick lottery and its report (the main job)."""
    from pathlib import Path

    from .sweep import load_sweep, run_sweep
    from .sweep._report import write_report

    out = Path(args.output)
    spec = load_sweep("quick")
    results = out / "results.db"
    print(f"archgym demo: the {spec.name!r} lottery ({len(spec.cells())} runs: {len(spec.envs)} envs, "
          f"{len(spec.agents)} agents, {len(spec.seeds)} seeds, budget {spec.budget}) on {args.workers} workers")  # fmt: skip
    summary = run_sweep(spec, results, workers=args.workers, resume=True, progress=not args.quiet)
    path = write_report(results, out, spec=spec, progress=not args.quiet)
    print(f"{summary.ran} runs in {summary.wall_time_s:.0f} s; report: {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``archgym`` argument parser, one subcommand per job."""
    parser = argparse.ArgumentParser(
        prog="archgym",
        description="Design-space exploration environments for computer architecture.",
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"archgym_py {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("envs", help="list registered environments")
    p.add_argument(
        "-v", "--verbose", action="store_true", help="also list workloads, archs and design spaces"
    )
    p.set_defaults(func=cmd_envs)

    def env_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("env", help="env id, e.g. archgym/Accelerator-v0")
        p.add_argument(
            "--workload", help="built-in workload name or YAML file (default: the env's)"
        )
        p.add_argument("--arch", help="base architecture name or YAML file (default: the env's)")
        p.add_argument("--objective", help="objective preset name (default: the env's)")
        p.add_argument("--backend", choices=("simulator", "surrogate"), help="default: simulator")
        p.add_argument(
            "--surrogate", help="surrogate folder for --backend surrogate (default: shipped)"
        )

    p = sub.add_parser("eval", help="evaluate one design")
    env_options(p)
    p.add_argument(
        "--design",
        nargs="*",
        metavar="NAME=VALUE",
        help="knob values; the rest keep the base design's",
    )
    p.add_argument("--details", action="store_true", help="energy breakdown and per-layer results")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser(
        "collect", help="evaluate N sampled designs into a trace file (CSV or Parquet)"
    )
    env_options(p)
    p.add_argument("-n", type=int, required=True, help="number of designs")
    p.add_argument(
        "--method", default="sobol", choices=("uniform", "sobol", "lhs"), help="sampling method"
    )
    p.add_argument(
        "--seed", type=int, default=0, help="sampling seed (the same seed, the same designs)"
    )
    p.add_argument("--batch", type=int, default=1024, help="designs per simulator call")
    p.add_argument("-o", "--output", required=True, help="trace path ending in .csv or .parquet")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_collect)

    p = sub.add_parser(
        "surrogate", help="fit a surrogate model on a trace, score one, or export it to ONNX"
    )
    ssub = p.add_subparsers(dest="surrogate_command", required=True)
    q = ssub.add_parser(
        "fit", help="fit on trace rows (one split held out) and save the model folder"
    )
    q.add_argument("trace", nargs="+", help="trace file(s) of one design space (.csv or .parquet)")
    q.add_argument("-o", "--output", required=True, help="output folder (model.json, card.yaml)")
    q.add_argument("--env", help="env id of the trace (default: found by its design-space hash)")
    q.add_argument(
        "--arch", help="base architecture the trace was recorded on (default: the env's)"
    )
    q.add_argument(
        "--family", default="auto", help="rf, et, hgb, gp, mlp, knn or auto (cross-validated)"
    )
    q.add_argument(
        "--param", nargs="*", metavar="NAME=VALUE", help="family parameters, e.g. members=3"
    )
    q.add_argument("--split", default="random", choices=("random", "region", "workload", "twin_free"),
                   help="how the held-out rows are chosen")  # fmt: skip
    q.add_argument(
        "--test-fraction",
        type=float,
        default=0.2,
        help="share of distinct designs held out (default 0.2)",
    )
    q.add_argument("--workload-encoding", default="onehot", choices=("onehot", "features"),
                   help="workloads as one-hot names, or by their features (predicts unseen ones)")  # fmt: skip
    q.add_argument("--cv", type=int, default=3, help="cross-validation folds (0: none)")
    q.add_argument("--calibrate", type=float, default=0.0, metavar="FRACTION",
                   help="share of the training rows (twin-free) kept apart to calibrate the 90%% "
                   "interval instead of the folds; an MLP with spread=head needs it")  # fmt: skip
    q.add_argument("--seed", type=int, default=0, help="seeds the split, the folds and the model")
    q.set_defaults(func=cmd_surrogate_fit)
    q = ssub.add_parser("score", help="score a saved surrogate on the rows of trace file(s)")
    q.add_argument("model", help="surrogate folder")
    q.add_argument("trace", nargs="+", help="trace file(s)")
    q.set_defaults(func=cmd_surrogate_score)
    q = ssub.add_parser("onnx", help="export a saved MLP surrogate as an ONNX graph")
    q.add_argument("model", help="surrogate folder")
    q.add_argument("-o", "--output", required=True, help="the .onnx file to write")
    q.set_defaults(func=cmd_surrogate_onnx)

    p = sub.add_parser("agents", help="list agents")
    p.add_argument(
        "-v", "--verbose", action="store_true", help="also list each agent's hyperparameter space"
    )
    p.set_defaults(func=cmd_agents)

    p = sub.add_parser("run", help="run one agent on one env")
    p.add_argument("agent", help="agent name (see `archgym agents`)")
    env_options(p)
    p.add_argument("--budget", type=int, required=True, help="simulator evaluations")
    p.add_argument(
        "--seed", type=int, default=0, help="the run's seed (the same seed, the same run)"
    )
    p.add_argument(
        "--hp", nargs="*", metavar="NAME=VALUE", help="hyperparameters (the rest keep defaults)"
    )
    p.add_argument("-o", "--output", help="write the RunResult as JSON")
    p.add_argument("--trace", help="append every evaluation to this .csv/.parquet (surrogate data)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("sweep", help="run a sweep spec (envs x agents x hyperparameters x seeds)")
    from .sweep import preset_names

    p.add_argument("spec", help=f"sweep YAML, or a shipped preset: {', '.join(preset_names())}")
    p.add_argument("-o", "--output", help="results database (default: <sweep name>.db)")
    p.add_argument(
        "--workers", type=int, default=2, help="local worker processes (0: run in this process)"
    )
    p.add_argument("--dask", metavar="ADDRESS", help="run on a dask.distributed scheduler instead")
    p.add_argument(
        "--resume", action="store_true", help="run only the cells the results file lacks"
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sweep)

    p = sub.add_parser(
        "report", help="write the lottery report (HTML, Markdown, PNG, CSV) of a results file"
    )
    p.add_argument("results", help="results database written by `archgym sweep`")
    p.add_argument("-o", "--output", default="report", help="output folder")
    p.add_argument("--spec", help="analyse only the cells of this sweep (YAML or preset name)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser(
        "compare",
        help="run agents on one env over seeds and print how they compare (no YAML needed)",
    )
    p.add_argument(
        "agents",
        nargs="+",
        help="agent names (archgym agents), each with its default hyperparameters",
    )
    p.add_argument("--env", required=True, help="env id, e.g. archgym/AcceleratorSmall-v0")
    p.add_argument("--seeds", type=int, default=5, help="seeds per agent (default 5)")
    p.add_argument(
        "--budget", type=int, default=200, help="simulator evaluations per run (default 200)"
    )
    p.add_argument("--workload", help="the env's workload")
    p.add_argument(
        "-o",
        "--output",
        help="keep the results in this SQLite file (report it with archgym report)",
    )
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_compare)

    p = sub.add_parser("demo", help="run the quick lottery and write its report (the main job)")
    p.add_argument(
        "-o", "--output", default="archgym-demo", help="output folder (results.db and the report)"
    )
    p.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo)
    for name, parser_of in sub.choices.items():  # usage examples under every command's --help
        parser_of.formatter_class = argparse.RawDescriptionHelpFormatter
        parser_of.epilog = "examples:\n" + "\n".join(f"  {line}" for line in EXAMPLES[name])
    return parser


#: Usage examples shown by ``archgym <command> --help``.
EXAMPLES = {
    "envs": ["archgym envs", "archgym envs -v"],
    "eval": ["archgym eval archgym/Accelerator-v0 --workload resnet18 --design pe_rows=16 pe_cols=16 glb_kib=256",
             "archgym eval archgym/DRAM-v0 --workload stream --details --json"],
    "collect": ["archgym collect archgym/Accelerator-v0 -n 10000 --method sobol -o traces/acc.csv"],
    "surrogate": ["archgym surrogate fit traces/acc.csv -o models/acc",
                  "archgym surrogate score models/acc traces/acc_more.csv",
                  "archgym surrogate onnx models/acc -o acc.onnx",
                  "archgym eval archgym/Accelerator-v0 --backend surrogate --surrogate models/acc"],
    "agents": ["archgym agents -v"],
    "run": ["archgym run ga archgym/Accelerator-v0 --budget 2000 --seed 1 --hp population=64 -o ga.json"],
    "sweep": ["archgym sweep quick -o quick.db --workers 2", "archgym sweep quick -o quick.db --resume",
              "archgym sweep my_lottery.yaml --dask tcp://127.0.0.1:8786"],
    "report": ["archgym report quick.db -o report/", "archgym report quick.db -o report/ --spec quick"],
    "compare": ["archgym compare random ga tpe --env archgym/AcceleratorSmall-v0 --seeds 5 --budget 200"],
    "demo": ["archgym demo", "archgym demo -o my-demo --workers 4"],
}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    """The ``archgym`` entry point: exit 0, 2 with a message on bad input, 130 when interrupted."""
    from .sweep._runner import SweepInterrupted

    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except SweepInterrupted as exc:
        print(f"archgym {args.command}: {exc}", file=sys.stderr)
        return 130
    except (ArchGymError, ImportError, OSError) as exc:  # bad input, a missing extra, a bad path
        print(f"archgym {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
