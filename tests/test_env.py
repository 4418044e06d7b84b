"""ArchEnv behaviour: kwargs, info, episode ends, records, vector env, fresh worker processes."""

from __future__ import annotations

import json
import subprocess
import sys

import gymnasium as gym
import numpy as np
import pytest

import archgym_py
from archgym_py import (
    ArchGymError,
    EpisodeRecord,
    ObjectiveError,
    OffGridWarning,
    TraceStore,
    WorkloadError,
    make_core,
    replay,
)


def test_reset_observes_the_base_design(acc_env):
    obs, info = acc_env.reset(seed=0)
    n_metrics = len(acc_env.unwrapped.core.metric_names)
    assert np.allclose(obs[:n_metrics], 0.0)  # the reference is the base design itself
    assert obs[n_metrics] == 1.0 and info["feasible"]
    assert info["design"]["pe_rows"] == 12 and info["design"]["dataflow"] == "RS"
    assert set(info["metrics"]) == {
        "latency_s",
        "energy_j",
        "area_mm2",
        "power_w",
        "edp_js",
        "utilization",
    }


def test_step_info_and_reward_match_the_simulator(acc_env):
    acc_env.reset(seed=0)
    obs, reward, terminated, truncated, info = acc_env.step(acc_env.action_space.sample())
    core = acc_env.unwrapped.core
    batch = core.space.batch([info["design"]])
    ev = core.simulator.evaluate(batch, core.workload)
    assert info["metrics"] == ev.row(0)
    expected = core.objective.reward(
        ev.metrics, ev.feasible & core.space.feasible(batch), core.reference
    )[0]
    assert reward == pytest.approx(expected)
    assert acc_env.observation_space.contains(obs)
    assert not terminated and not truncated


def test_truncation_after_max_steps():
    env = gym.make("archgym/Accelerator-v0", max_steps=3)
    env.reset(seed=0)
    flags = [env.step(env.action_space.sample())[3] for _ in range(3)]
    assert flags == [False, False, True]


def test_target_objective_terminates_when_met():
    loose = {"kind": "target", "targets": {"latency_s": 10.0, "power_w": 100.0}}
    env = gym.make("archgym/Accelerator-v0", objective=loose)
    env.reset(seed=0)
    base = env.unwrapped.space.to_indices(
        env.unwrapped.space.batch([env.unwrapped.space.default()])
    )[0]
    _, reward, terminated, _, info = env.step(base)
    assert info["feasible"] and terminated and reward == 0.0


def test_kwargs_workload_arch_objective():
    with pytest.warns(OffGridWarning, match=r"glb_kib=24576.0 \(episodes start at 32768\)"):
        env = gym.make(
            "archgym/Accelerator-v0", workload="mobilenet_v2", arch="tpu_v1", objective="latency"
        )
    _, info = env.reset(seed=0)
    core = env.unwrapped.core
    assert (
        core.workload.name == "mobilenet_v2"
        and core.arch.name == "tpu_v1"
        and core.objective.name == "latency"
    )
    assert info["design"]["pe_rows"] == 256 and info["design"]["dataflow"] == "WS"


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"workload": "resnet-50"}, WorkloadError, "did you mean 'resnet50'?"),
        (
            {"objective": "edpp"},
            ObjectiveError,
            "unknown objective preset 'edpp' (did you mean 'edp'?)",
        ),
        (
            {"backend": "simulater"},
            ArchGymError,
            "unknown backend 'simulater' (did you mean 'simulator'?)",
        ),
        (
            {"backend": "surrogate", "surrogate": "/nonexistent"},
            ArchGymError,
            "surrogate '/nonexistent': no model.json there",
        ),
        ({"surrogate": "/x"}, ArchGymError, "needs backend='surrogate'"),
        ({"max_steps": 0}, ArchGymError, "max_steps: got 0; expected a positive integer"),
        ({"arch": "eyeris"}, ArchGymError, "did you mean 'eyeriss'?"),
    ],
)
def test_bad_kwargs_fail_clearly(kwargs, error, message):
    with pytest.raises(error) as err:
        gym.make("archgym/Accelerator-v0", **kwargs)
    assert message in str(err.value)


def test_backend_accepts_any_simulator_protocol_object():
    env = gym.make("archgym/Accelerator-v0")
    sim = env.unwrapped.simulator

    class Wrapped:
        metrics = sim.metrics
        version = "wrapped"

        def __init__(self):
            self.calls = 0

        def evaluate(self, designs, workload):
            self.calls += 1
            return sim.evaluate(designs, workload)

    backend = Wrapped()
    env2 = gym.make("archgym/Accelerator-v0", backend=backend)
    env2.reset(seed=0)
    env2.step(env2.action_space.sample())
    assert backend.calls == 2  # reference design at construction + one step


def test_box_and_dict_action_types():
    env = gym.make("archgym/Accelerator-v0", action_type="box")
    env.reset(seed=0)
    _, _, _, _, info = env.step(np.full(8, 0.5, dtype=np.float32))
    assert info["design"]["dataflow"] == "IS"  # 0.5 of [WS, OS, IS, RS] falls in the third slice
    env = gym.make("archgym/Accelerator-v0", action_type="dict")
    env.reset(seed=0)
    env.step(env.action_space.sample())


def test_episode_record_save_load_replay(tmp_path, acc_env):
    acc_env.reset(seed=3, options={"design": {"dataflow": "WS"}})
    acc_env.action_space.seed(3)
    for _ in range(5):
        acc_env.step(acc_env.action_space.sample())
    record = acc_env.unwrapped.episode_record()
    assert record.start_design["dataflow"] == "WS" and len(record) == 5
    path = tmp_path / "episode.json"
    record.save(path)
    loaded = EpisodeRecord.load(path)
    assert replay(loaded).ok
    tampered = EpisodeRecord.from_json(path.read_text())
    tampered.rewards[2] += 1e-6
    report = replay(tampered)
    assert not report.ok and "step 2: reward" in report.mismatches[0]


def test_trace_kwarg_records_every_evaluation(tmp_path):
    path = tmp_path / "trace.csv"
    env = gym.make("archgym/Accelerator-v0", trace=str(path))
    env.reset(seed=0)
    for _ in range(4):
        env.step(env.action_space.sample())
    data = TraceStore(path).read()
    assert (
        len(data["latency_s"]) == 1 + 4
    )  # the base design (evaluated once, reused by reset), 4 steps
    assert set(data["simulator_version"]) == {"accelerator-model/1"}
    assert set(data["space_hash"]) == {env.unwrapped.space.hash()}
    assert (data["wall_time_s"] > 0).all()


def test_vector_env_autoreset_next_step():
    venv = gym.make_vec(
        "archgym/Accelerator-v0", num_envs=3, vectorization_mode="vector_entry_point", max_steps=2
    )
    venv.reset(seed=0)
    a = venv.action_space.sample()
    _, _, _, trunc1, _ = venv.step(a)
    _, _, _, trunc2, _ = venv.step(a)
    _, rew3, term3, trunc3, info3 = venv.step(a)
    assert not trunc1.any() and trunc2.all()
    assert (rew3 == 0).all() and not term3.any() and not trunc3.any()  # the reset step
    assert (info3["design"]["pe_rows"] == 12).all()


def test_prefixed_id_works_in_a_fresh_process():
    code = (
        "import gymnasium as gym, json;"
        "env = gym.make('archgym_py:archgym/Accelerator-v0', workload='alexnet');"
        "obs, info = env.reset(seed=5); env.action_space.seed(5);"
        "print(json.dumps([env.step(env.action_space.sample())[1] for _ in range(3)]))"
    )
    runs = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
            for _ in range(2)]  # fmt: skip
    here = gym.make("archgym/Accelerator-v0", workload="alexnet")
    here.reset(seed=5)
    here.action_space.seed(5)
    expected = [here.step(here.action_space.sample())[1] for _ in range(3)]
    assert json.loads(runs[0]) == json.loads(runs[1]) == expected


def test_render_ansi():
    env = gym.make("archgym/Accelerator-v0", render_mode="ansi")
    env.reset(seed=0)
    env.step(env.action_space.sample())
    assert "latency_s=" in env.render()


def test_step_before_reset_is_an_error():
    env = archgym_py.ArchEnv("accelerator")
    with pytest.raises(ArchGymError, match="call reset"):
        env.step(env.action_space.sample())


@pytest.mark.parametrize("vec_cls", ["DummyVecEnv", "SubprocVecEnv"])
def test_sb3_make_vec_env_builds_and_steps(vec_cls):
    # Issue 17: SB3 passes render_mode="rgb_array", which the env refused; Gymnasium's
    # convention is a warning (render() then returns None). SubprocVecEnv's workers are fresh
    # processes: the "archgym_py:" prefix makes gymnasium import the package there.
    import warnings

    import stable_baselines3.common.vec_env as vec_env
    from stable_baselines3.common.env_util import make_vec_env

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        venv = make_vec_env("archgym_py:archgym/AcceleratorSmall-v0", n_envs=2, seed=0,
                            vec_env_cls=getattr(vec_env, vec_cls))  # fmt: skip
    if vec_cls == "DummyVecEnv":
        assert any("rgb_array" in str(w.message) for w in caught)
    try:
        obs = venv.reset()
        assert obs.shape == (2, venv.observation_space.shape[0])
        obs, rewards, dones, infos = venv.step(
            np.array([venv.action_space.sample() for _ in range(2)])
        )
        assert rewards.shape == (2,) and np.all(np.isfinite(rewards))
        assert {"design", "metrics", "feasible"} <= set(infos[0])
    finally:
        venv.close()


def test_vector_env_info_has_gymnasiums_masks():
    # Issue 17: Gymnasium's vector info pairs each key with a `_key` mask; compare with the
    # SyncVectorEnv Gymnasium builds over the same env.
    def keys(info):
        return {k: keys(v) if isinstance(v, dict) else None for k, v in info.items()}

    ours = gym.make_vec(
        "archgym/AcceleratorSmall-v0", num_envs=3, vectorization_mode="vector_entry_point"
    )
    sync = gym.make_vec("archgym/AcceleratorSmall-v0", num_envs=3, vectorization_mode="sync")
    actions = np.array([ours.single_action_space.sample() for _ in range(3)])
    for venv in (ours, sync):
        venv.reset(seed=0)
    a, b = ours.step(actions)[4], sync.step(actions)[4]
    assert keys(a) == keys(b)
    assert a["_metrics"].all() and a["metrics"]["_latency_s"].all()
    np.testing.assert_allclose(a["metrics"]["latency_s"], b["metrics"]["latency_s"])
    assert a["step"].tolist() == b["step"].tolist() == [1, 1, 1]


def test_info_names_budget_and_simulator_feasibility_apart():
    # Issue 17: info["feasible"] (budgets included) and the simulator's verdict were one name.
    env = gym.make("archgym/AcceleratorSmall-v0").unwrapped
    env.reset(seed=0)
    biggest = env.space.nvec - 1  # the largest array and buffer: mappable, but over 4 mm^2
    _, _, _, _, info = env.step(biggest)
    assert info["metrics"]["area_mm2"] > 4.0
    assert info["simulator_feasible"] is True and info["feasible"] is False


@pytest.mark.parametrize(
    "kwargs, length", [({}, 100), ({"max_steps": 7}, 7), ({"max_steps": 250}, 250)]
)
def test_gymnasium_tooling_sees_the_episode_length_in_use(kwargs, length):
    # Issue 17: env.spec.max_episode_steps was None. It is the length the env truncates at, the
    # spec's default or max_steps= (a registered TimeLimit would cut max_steps=250 at 100).
    env = gym.make("archgym/AcceleratorSmall-v0", **kwargs)
    assert env.spec.max_episode_steps == env.unwrapped.spec.max_episode_steps == length
    env.reset(seed=0)
    steps, done = 0, False
    while not done:
        steps += 1
        *_, terminated, truncated, _ = env.step(env.action_space.sample())
        done = terminated or truncated
    assert steps == length


def test_an_off_grid_base_architecture_is_evaluated_exactly_not_rounded():
    # Eyeriss's 108 KiB global buffer is not a level of Accelerator-v0's power-of-two GLB knob:
    # episodes start from 128 KiB, the base batch keeps 108, and the two evaluate differently
    core = make_core("archgym/Accelerator-v0")  # the env's own default: documented, no warning
    assert core.off_grid == {"glb_kib": (108.0, 128)}
    base = core.base_batch()
    assert base["glb_kib"].tolist() == [108] and core.space.default()["glb_kib"] == 128
    exact = core.simulator.evaluate(base, core.workload).metrics["area_mm2"][0]
    rounded = core.simulator.evaluate(core.default_batch, core.workload).metrics["area_mm2"][0]
    assert exact < rounded
    # a knob given explicitly is taken as given
    assert core.base_batch({"glb_kib": 256})["glb_kib"].tolist() == [256]
    # a fractional base value on an integer (power-of-two) knob is not truncated either
    codesign = make_core("archgym/AcceleratorCoDesign-v0")
    assert codesign.off_grid["dram_bw_gbps"] == (1.6, 2)
    assert codesign.base_batch()["dram_bw_gbps"].tolist() == [1.6]
    # another architecture with off-grid knobs warns, naming each knob, value and level
    with pytest.warns(OffGridWarning, match=r"pe_rows=256 \(episodes start at 64\)"):
        make_core("archgym/AcceleratorSmall-v0", arch="tpu_v1")
