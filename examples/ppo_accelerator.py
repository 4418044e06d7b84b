"""Train stable-baselines3 PPO directly on archgym/Accelerator-v0 (made with gymnasium.make).

Run: python examples/ppo_accelerator.py        (needs torch; see the README's install line)
"""

from __future__ import annotations

import time

import gymnasium as gym
from stable_baselines3 import PPO
from stable_baselines3.common.callbacks import BaseCallback

import archgym_py  # noqa: F401  (registers the archgym envs)


class Progress(BaseCallback):
    """A line every ``every`` env steps: progress, speed and the best reward so far."""

    def __init__(self, total: int, every: int = 256):
        super().__init__()
        self.total, self.every, self.best, self.start = (
            total,
            every,
            float("-inf"),
            time.perf_counter(),
        )

    def _on_step(self) -> bool:
        self.best = max(self.best, float(max(self.locals["rewards"])))
        if self.num_timesteps % self.every == 0 or self.num_timesteps == self.total:
            rate = self.num_timesteps / (time.perf_counter() - self.start)
            print(f"  step {self.num_timesteps}/{self.total} ({rate:.0f} steps/s), best reward {self.best:.3f}",
                  flush=True)  # fmt: skip
        return True


def main(steps: int = 4096, seed: int = 0) -> None:
    env = gym.make("archgym/Accelerator-v0", workload="resnet18", objective="edp")
    model = PPO(
        "MlpPolicy",
        env,
        n_steps=256,
        batch_size=64,
        gamma=0.9,
        ent_coef=0.01,
        seed=seed,
        device="cpu",
    )
    model.learn(total_timesteps=steps, callback=Progress(steps))

    # Sample designs from the trained policy and keep the best feasible one.
    obs, _ = env.reset(seed=seed)
    best = (float("-inf"), None)
    for _ in range(256):
        action, _ = model.predict(obs, deterministic=False)
        obs, reward, terminated, truncated, info = env.step(action)
        if info["feasible"] and reward > best[0]:
            best = (reward, info)
        if terminated or truncated:
            obs, _ = env.reset()
    reward, info = best
    print(f"best reward {reward:.3f}: {info['design']}")
    print({k: f"{v:.4g}" for k, v in info["metrics"].items()})


if __name__ == "__main__":
    main()
