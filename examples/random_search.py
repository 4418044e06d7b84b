"""A hand-written search loop over archgym/Accelerator-v0 with gymnasium.make.

Run: python examples/random_search.py
"""

from __future__ import annotations

import gymnasium as gym

import archgym_py  # noqa: F401  (registers the archgym envs)


def main(steps: int = 500, seed: int = 0) -> None:
    env = gym.make(
        "archgym/Accelerator-v0", workload="mobilenet_v2", objective="edp", max_steps=steps
    )
    env.reset(seed=seed)
    env.action_space.seed(seed)
    best = (float("-inf"), None, None)
    for _ in range(steps):
        _, reward, terminated, truncated, info = env.step(env.action_space.sample())
        if info["feasible"] and reward > best[0]:
            best = (reward, info["design"], info["metrics"])
        if terminated or truncated:
            break
    reward, design, metrics = best
    if design is None:
        print(
            f"best reward: none of {steps} random designs met the area and power budgets; try more steps"
        )
        return
    print(f"best reward {reward:.3f} (ln of the EDP improvement over the Eyeriss-like base design)")
    print("design:", design)
    print("metrics:", {k: f"{v:.4g}" for k, v in metrics.items()})


if __name__ == "__main__":
    main()
