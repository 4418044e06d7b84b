"""Fidelity of the accelerator model against published Eyeriss silicon measurements.

Run: ``python benchmarks/fidelity_eyeriss.py``

Reference: Chen, Krishna, Emer, Sze, "Eyeriss: An Energy-Efficient Reconfigurable Accelerator for
Deep Convolutional Neural Networks", IEEE JSSC 52(1), 2017, per-layer performance of the five
AlexNet CONV layers at 200 MHz, batch size 4 (latency in ms, DRAM accesses in MB). The model runs
the shipped ``eyeriss`` spec on the same layers and batch.

The third table is VGG-16's CONV layers (batch 3) against the paper's abstract: frame rate and
DRAM accesses per MAC, on the compact model and on the hierarchy.

Caveat: Eyeriss run-length-compresses activations to and from DRAM (its ifmaps are 39-79% zeros
after CONV1), which this model does not; its DRAM figures are therefore expected to be high.
"""

from __future__ import annotations

import numpy as np
from scipy.stats import spearmanr

from archgym_py.envs.accelerator import DOMAIN, Network
from archgym_py.envs.accelerator.networks import alexnet

# Chen et al., JSSC 2017: per-layer latency (ms) and DRAM accesses (MB), AlexNet, N = 4, 200 MHz.
PUBLISHED = {
    "conv1": (20.9, 5.0),
    "conv2": (41.9, 4.0),
    "conv3": (23.6, 3.0),
    "conv4": (18.4, 2.1),
    "conv5": (10.5, 1.3),
}


def main() -> None:
    arch = DOMAIN.load_arch("eyeriss")
    sim = DOMAIN.simulator(arch)
    convs = Network(
        "alexnet_conv", tuple(layer for layer in alexnet(batch=4).layers if layer.kind == "conv2d")
    )
    details = sim.evaluate({}, convs, details=True).details
    latency_ms = details["layer_latency_s"][0] * 1e3
    dram_mb = details["layer_dram_words"][0] * arch.data_bits / 8 / 1e6
    print("AlexNet CONV layers on Eyeriss (batch 4, 200 MHz): model vs Chen et al., JSSC 2017")
    compare(latency_ms, dram_mb, bound=details["layer_binding"][0], total=True)


def compare(latency_ms, dram_mb, *, bound=None, total: bool = False) -> None:
    """Per layer: the model's latency and DRAM traffic against the published ones; then the
    total (if asked) and the rank correlation and mean error of each."""
    pub_lat = np.array([v[0] for v in PUBLISHED.values()])
    pub_dram = np.array([v[1] for v in PUBLISHED.values()])
    print(
        f"{'layer':<7}{'latency ms':>12}{'published':>11}{'error':>8}{'DRAM MB':>10}{'published':>11}{'error':>8}"
        + ("  bound" if bound is not None else "")
    )
    rows = [
        (name, latency_ms[i], pub_lat[i], dram_mb[i], pub_dram[i])
        for i, name in enumerate(PUBLISHED)
    ]
    if total:
        rows.append(("total", latency_ms.sum(), pub_lat.sum(), dram_mb.sum(), pub_dram.sum()))
    for i, (name, lat, plat, mb, pmb) in enumerate(rows):
        extra = f"  {bound[i]}" if bound is not None and i < len(PUBLISHED) else ""
        print(f"{name:<7}{lat:>12.2f}{plat:>11.1f}{lat / plat - 1:>+8.0%}"
              f"{mb:>10.2f}{pmb:>11.1f}{mb / pmb - 1:>+8.0%}{extra}")  # fmt: skip
    for label, model, pub in (("latency", latency_ms, pub_lat), ("DRAM", dram_mb, pub_dram)):
        rho = spearmanr(model, pub).statistic
        mape = np.mean(np.abs(model - pub) / pub)
        print(
            f"{label:<8} Spearman rank correlation {rho:+.2f}, mean absolute percentage error {mape:.0%}"
        )


def hierarchy_model() -> None:
    """The same layers on ``arch_specs/accelerator/hierarchy/eyeriss.yaml`` (the loop-nest model,
    row-stationary unrolling, the mapper minimising energy x delay): issue 12's architecture language."""
    from archgym_py.envs.accelerator.hierarchy import load_hierarchy

    h = load_hierarchy("eyeriss")
    convs = [layer for layer in alexnet(batch=4).layers if layer.kind == "conv2d"]
    cycles, words = on_hierarchy(h, convs)
    bits = sum(words[op] * h.precision_bits[op] for op in "WIO")
    lat, dram = cycles / (h.clock_mhz * 1e3), bits / 8 / 1e6
    print("\nThe same layers on the hierarchy description (loop-nest model + mapper, EDP):")
    compare(lat, dram)


def on_hierarchy(h, layers) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Per layer, each mapped on hierarchy ``h`` for energy x delay: the cycles and the DRAM
    words of each operand, over all its runs (count x groups: a grouped layer's groups are the
    same problem, mapped on its own in turn)."""
    from archgym_py.envs.accelerator.codesign import layer_problems

    cycles, words = [], {op: [] for op in "WIO"}
    for problem, runs in layer_problems(Network("layers", tuple(layers))):
        _, cost = h.map(problem, objective="edp", samples=8192)
        cycles.append(runs * cost.cycles)
        for op in "WIO":
            words[op].append(runs * (cost.reads[("DRAM", op)] + cost.writes[("DRAM", op)]))
    return np.array(cycles), {op: np.array(w) for op, w in words.items()}


#: Chen et al., JSSC 2017 (abstract): VGG-16's CONV layers at 0.7 frames/s and 0.0035 DRAM
#: accesses per MAC, batch 3, 200 MHz (the per-layer table is not used here).
VGG16_FPS, VGG16_DRAM_PER_MAC, VGG16_BATCH = 0.7, 0.0035, 3


def vgg16() -> None:
    """VGG-16's CONV layers against the published frame rate and DRAM accesses per MAC, on the
    compact model and on the hierarchy (each layer mapped for EDP; groups and counts repeat)."""
    from archgym_py.envs.accelerator.hierarchy import load_hierarchy
    from archgym_py.envs.accelerator.networks import vgg16 as vgg

    convs = Network("vgg16_conv", tuple(x for x in vgg(batch=VGG16_BATCH).layers
                                        if x.kind == "conv2d"))  # fmt: skip
    macs = sum(x.macs * x.count for x in convs.layers)
    arch = DOMAIN.load_arch("eyeriss")
    details = DOMAIN.simulator(arch).evaluate({}, convs, details=True).details
    rows = [("compact model", VGG16_BATCH / details["layer_latency_s"][0].sum(),
             details["layer_dram_words"][0].sum() / macs)]  # fmt: skip
    h = load_hierarchy("eyeriss")
    cycles, words = on_hierarchy(h, convs.layers)
    total_words = sum(w.sum() for w in words.values())
    rows.append(
        ("hierarchy", VGG16_BATCH / (cycles.sum() / (h.clock_mhz * 1e6)), total_words / macs)
    )
    print(
        f"\nVGG-16 CONV layers on Eyeriss (batch {VGG16_BATCH}, 200 MHz) vs Chen et al., JSSC 2017:"
    )
    print(
        f"{'model':<14}{'frames/s':>10}{'published':>11}{'ratio':>8}{'DRAM/MAC':>10}{'published':>11}{'ratio':>8}"
    )
    for name, fps, per_mac in rows:
        print(f"{name:<14}{fps:>10.2f}{VGG16_FPS:>11.1f}{fps / VGG16_FPS:>8.2f}"
              f"{per_mac:>10.4f}{VGG16_DRAM_PER_MAC:>11.4f}{per_mac / VGG16_DRAM_PER_MAC:>8.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
    hierarchy_model()
    vgg16()
