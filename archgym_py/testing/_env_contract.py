"""The env contract: each check takes an env id and raises AssertionError (or the env's own
error) when the env breaks the contract."""

from __future__ import annotations

import warnings

import gymnasium as gym
import numpy as np

from .._errors import DesignError


def check_gymnasium_env_checker(env_id: str) -> None:
    """Gymnasium's own ``check_env`` (spaces, reset/step signatures, seeding, determinism)."""
    from gymnasium.utils.env_checker import check_env

    env = gym.make(env_id)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env.unwrapped, skip_render_check=True)
    env.close()


def check_sb3_env_checker(env_id: str) -> None:
    """Stable-Baselines3's ``check_env`` (needs the SB3 extra and torch)."""
    from stable_baselines3.common.env_checker import check_env

    env = gym.make(env_id)
    check_env(env.unwrapped, warn=False)
    env.close()


def _rollout(env_id: str, seed: int, steps: int):
    env = gym.make(env_id)
    obs, _ = env.reset(seed=seed)
    env.action_space.seed(seed)
    trajectory = [obs]
    for _ in range(steps):
        obs, reward, terminated, truncated, info = env.step(env.action_space.sample())
        trajectory.append(
            (obs, reward, terminated, truncated, info["metrics"], info["design"], info["feasible"])
        )
    env.close()
    return trajectory


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, (tuple, list)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def check_determinism(env_id: str, seed: int = 123, steps: int = 20) -> None:
    """The same seed and the same actions give bit-identical observations, rewards and infos."""
    first, second = _rollout(env_id, seed, steps), _rollout(env_id, seed, steps)
    for i, (a, b) in enumerate(zip(first, second, strict=True)):
        assert _same(a, b), f"{env_id}: step {i} differs between two runs with seed {seed}"


def check_invalid_actions(env_id: str) -> None:
    """Out-of-range, wrongly shaped and non-integer actions raise DesignError naming the problem."""
    env = gym.make(env_id).unwrapped
    env.reset(seed=0)
    nvec = env.action_space.nvec
    bad_actions = {
        "index past the last level": np.where(np.arange(len(nvec)) == 0, nvec, 0),
        "negative index": -np.ones(len(nvec), dtype=np.int64),
        "wrong length": np.zeros(len(nvec) + 1, dtype=np.int64),
        "non-integer": np.full(len(nvec), 0.5),
    }
    for label, action in bad_actions.items():
        try:
            env.step(action)
        except DesignError as exc:
            message = str(exc)
            assert message, f"{env_id}: empty error for {label}"
            if label == "index past the last level":
                assert env.space.params[0].name in message, (
                    f"{env_id}: error does not name the parameter: {message}"
                )
        else:
            raise AssertionError(f"{env_id}: action with {label} was accepted: {action}")
    # The env still works after the errors.
    env.step(env.action_space.sample())
    env.close()


def check_replay(env_id: str, steps: int = 10) -> None:
    """An episode's record serialises to JSON and replays to the same rewards and metrics."""
    from .._record import EpisodeRecord, replay

    env = gym.make(env_id)
    env.reset(seed=7)
    env.action_space.seed(7)
    for _ in range(steps):
        env.step(env.action_space.sample())
    record = EpisodeRecord.from_json(env.unwrapped.episode_record().to_json())
    report = replay(record)
    assert report.steps == steps and report.ok, f"{env_id}: replay mismatches {report.mismatches}"
    env.close()


def check_vector_env_matches(env_id: str, num_envs: int = 4, steps: int = 3) -> None:
    """The numpy vector env gives the same rewards and observations as single envs."""
    venv = gym.make_vec(env_id, num_envs=num_envs, vectorization_mode="vector_entry_point")
    venv.reset(seed=0)
    venv.action_space.seed(0)
    singles = [gym.make(env_id) for _ in range(num_envs)]
    for s in singles:
        s.reset(seed=0)
    for _ in range(steps):
        actions = venv.action_space.sample()
        vobs, vrew, *_ = venv.step(actions)
        for i, s in enumerate(singles):
            obs, rew, *_ = s.step(actions[i])
            assert np.allclose(obs, vobs[i]) and np.isclose(rew, vrew[i]), (
                f"{env_id}: sub-env {i} differs"
            )
    venv.close()


ENV_CHECKS = (
    check_gymnasium_env_checker,
    check_sb3_env_checker,
    check_determinism,
    check_invalid_actions,
    check_replay,
    check_vector_env_matches,
)
