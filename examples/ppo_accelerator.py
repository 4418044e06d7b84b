"""Train stable-baselines3 PPO directly on archgym/Accelerator-v0 (made with gymnasium.make).

Run: python examples/ppo_accelerator.py        (needs torch; see the README's install line)
"""

from __future__ import annotations

import gymnasium as gym
from stable_baselines3 import PPO

import archgym_py  # noqa: F401  (registers the archgym envs)


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
    model.learn(total_timesteps=steps)

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
