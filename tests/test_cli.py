"""The archgym CLI: envs, eval, collect, and errors with exit code 2."""

from __future__ import annotations

import json

import pytest

from archgym_py import TraceStore, make_core
from archgym_py.cli import main


def test_envs_lists_ids_with_descriptions(capsys):
    assert main(["envs"]) == 0
    out = capsys.readouterr().out
    assert "archgym/Accelerator-v0" in out and "DNN accelerator" in out


def test_eval_issue_example(capsys):
    args = ["eval", "archgym/Accelerator-v0", "--workload", "resnet18", "--design", "pe_rows=16", "pe_cols=16",
            "glb_kib=256", "--json"]  # fmt: skip
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["design"]["pe_rows"] == 16 and result["design"]["glb_kib"] == 256
    assert result["units"]["energy_j"] == "J"
    # The CLI reports what the env core computes for the same design (the base fills the rest).
    core = make_core("archgym/Accelerator-v0", workload="resnet18")
    design = core.space.validate({"pe_rows": 16, "pe_cols": 16, "glb_kib": 256}, partial=True)
    ev, reward, feasible, _ = core.evaluate(core.space.batch([design]))
    assert result["metrics"] == pytest.approx(ev.row(0), rel=1e-12)
    assert (result["feasible"], result["reward"]) == (
        bool(feasible[0]),
        pytest.approx(float(reward[0])),
    )


def test_eval_keeps_an_off_grid_base_exactly_and_says_so(capsys):
    # Eyeriss's 108 KiB GLB is off Accelerator-v0's power-of-two levels: eval runs 108 itself
    assert main(["eval", "archgym/Accelerator-v0", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["design"]["glb_kib"] == 108
    assert result["off_grid"] == {"glb_kib": {"value": 108.0, "nearest_level": 128}}
    core = make_core("archgym/Accelerator-v0")
    ev, *_ = core.evaluate(core.base_batch())
    assert result["metrics"] == pytest.approx(ev.row(0), rel=1e-12)
    assert main(["eval", "archgym/Accelerator-v0"]) == 0
    assert "note: glb_kib=108.0 is the architecture's own value" in capsys.readouterr().out


def test_eval_details_table(capsys):
    assert main(["eval", "archgym/Accelerator-v0", "--workload", "alexnet", "--details"]) == 0
    out = capsys.readouterr().out
    assert "energy breakdown (J): mac=" in out and "conv2" in out and "fc6" in out


def test_eval_details_of_every_domain_come_from_its_hook(capsys):
    # DRAM: the generic per-design lines (command counts); a surrogate: its interval bounds.
    assert (
        main(["eval", "archgym/DRAMLPDDR4-v0", "--workload", "stream", "--details", "--json"]) == 0
    )
    details = json.loads(capsys.readouterr().out)["details"]
    assert details["n_rd"] + details["n_wr"] == 20_000  # one column command per request
    assert main(["eval", "archgym/Accelerator-v0", "--backend", "surrogate", "--details"]) == 0
    out = capsys.readouterr().out
    assert "lower_latency_s" in out and "upper_latency_s" in out


@pytest.mark.parametrize(
    "args, message",
    [
        (["eval", "archgym/Accelerator-v1"], "unknown env id 'archgym/Accelerator-v1'"),
        (["eval", "archgym/Accelerator-v0", "--design", "pe_row=16"], "did you mean 'pe_rows'?"),
        (
            ["eval", "archgym/Accelerator-v0", "--design", "glb_kib=100"],
            "parameter 'glb_kib': got '100' KiB",
        ),
        (
            ["eval", "archgym/Accelerator-v0", "--design", "glb_kib"],
            "--design: expected name=value",
        ),
        (["collect", "archgym/Accelerator-v0", "-n", "0", "-o", "x.csv"], "-n: got 0"),
    ],
)
def test_errors_exit_2_with_message(capsys, args, message):
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_collect_writes_trace(tmp_path, capsys):
    out = tmp_path / "acc.csv"
    args = [
        "collect",
        "archgym/Accelerator-v0",
        "-n",
        "100",
        "--method",
        "lhs",
        "--batch",
        "30",
        "-o",
        str(out),
        "-q",
    ]
    assert main(args) == 0
    data = TraceStore(out).read()
    assert len(data["latency_s"]) == 100 and set(data["workload"].tolist()) == {"resnet18"}
    assert "wrote 100 evaluations" in capsys.readouterr().out


@pytest.mark.parametrize("batch", ["0", "-1"])
def test_collect_refuses_a_batch_that_would_write_nothing(batch, tmp_path, capsys):
    # Issue 15: --batch -1 printed "wrote 10 evaluations" and wrote no file.
    out = tmp_path / "x.csv"
    args = [
        "collect",
        "archgym/AcceleratorSmall-v0",
        "-n",
        "10",
        "--batch",
        batch,
        "-o",
        str(out),
        "-q",
    ]
    assert main(args) == 2
    assert f"--batch: got {batch}; expected a positive number" in capsys.readouterr().err
    assert not out.exists()


def test_an_unwritable_output_path_is_an_error_not_a_traceback(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    args = ["collect", "archgym/AcceleratorSmall-v0", "-n", "4", "-o", str(blocker / "x.csv"), "-q"]
    assert main(args) == 2
    assert str(blocker) in capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["report", "{tmp}/missing.db", "-o", "{tmp}/r"],
            "results file '{tmp}/missing.db' does not exist",
        ),
        (["sweep", "{tmp}/missing.yaml"], "sweep preset file '{tmp}/missing.yaml' does not exist"),
        (
            ["eval", "archgym/DRAM-v0", "--workload", "{tmp}/nothere.stl"],
            "workload file '{tmp}/nothere.stl' does not exist",
        ),
        (
            ["eval", "archgym/DRAM-v0", "--workload", "nothere.stl"],
            "workload file 'nothere.stl' does not exist",
        ),
    ],
)
def test_a_missing_file_is_named_and_nothing_is_created(args, message, tmp_path, capsys):
    # Issue 17: a missing results file became an empty database; a missing sweep file was an
    # "unknown sweep preset"; a missing trace an "unknown DRAM workload".
    args = [a.format(tmp=tmp_path) for a in args]
    assert main(args) == 2
    assert message.format(tmp=tmp_path) in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_version(capsys):
    import archgym_py

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert (
        info.value.code == 0
        and capsys.readouterr().out.strip() == f"archgym_py {archgym_py.__version__}"
    )


def test_compare_agents_without_writing_yaml(tmp_path, capsys):
    # Issue 17: comparing agents needed a sweep YAML.
    results = tmp_path / "c.db"
    args = ["compare", "random", "tpe", "--env", "archgym/AcceleratorSmall-v0", "--seeds", "2", "--budget", "40",
            "-o", str(results), "--workers", "0", "-q"]  # fmt: skip
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "score 1 = the exact optimum, 0 = random search's median best" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert set(rows) == {"random", "tpe"} and rows["tpe"][1] == "2"
    assert main(args) == 0  # a second call resumes the same file: nothing to run again


def test_every_option_has_help_text():
    # Issue 17: --seed, demo --workers, -q and --test-fraction had none.
    import argparse

    from archgym_py.cli import build_parser

    missing = []

    def walk(parser, path):
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, sub in action.choices.items():
                    walk(sub, [*path, name])
            elif not action.help:
                missing.append(f"{' '.join(path)} {action.dest}")

    walk(build_parser(), ["archgym"])
    assert missing == []


def test_every_command_shows_usage_examples(capsys):
    from archgym_py.cli import EXAMPLES, build_parser

    parser = build_parser()
    commands = parser._subparsers._group_actions[0].choices
    assert set(commands) == set(EXAMPLES)
    for name, sub in commands.items():
        assert all(example in sub.format_help() for example in EXAMPLES[name]), name
