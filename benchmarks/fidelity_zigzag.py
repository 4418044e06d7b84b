"""Fidelity of the hierarchy model (loop nest + mapper) against ZigZag, on the same hardware.

Run: ``python benchmarks/fidelity_zigzag.py --zigzag-python PATH`` where PATH is a Python with
ZigZag installed (ZigZag's wheel also needs ``six``)::

    python -m venv zz && zz/bin/pip install zigzag-dse six      # ~90 s from a PyPI mirror
    python benchmarks/fidelity_zigzag.py --zigzag-python zz/bin/python

Reference: Mei et al., "ZigZag: Enlarging Joint Architecture-Mapping Design Space Exploration
for DNN Accelerators", IEEE TC 2021 (zigzag-dse 3.9). Each architecture here is one of this
project's hierarchy specs (``arch_specs/accelerator/hierarchy``: Eyeriss, Simba) or a design
point derived from Eyeriss (array shape, buffer sizes, bandwidths, dataflow), translated into
ZigZag's hardware, mapping and workload inputs: one ZigZag memory per level (one per operand
where a level gives per-operand capacities), per-access energies = per-bit energy x port width,
per-PE memories serving no array dimension (or their own fanout's), chip memories serving all,
one read-write port of the level's bandwidth where it has one, and where this model leaves a
level's bandwidth unbounded (the per-PE buffers) one port per direction (to and from the MACs,
to and from the level above), each as wide as every MAC below needs per cycle (on shared ports
ZigZag charges a partial sum's read and write, or a drain beside the MACs' reads, as stalls: an
artefact of the translation, not of either model),
the same spatial unrolling (this project's greedy unrolling of the served loops, handed to
ZigZag as its spatial mapping). ZigZag's bundled example hardware is not used (kept for
independent checks). Both search temporal mappings for latency (ZigZag: LOMA; here: the
random-pruned mapper, 8,192 samples), and again for energy (the energy comparison at each
tool's energy-optimal mapping); latency is each one's cycles (this model's with
``loading="serial"``: ZigZag adds its on- and off-loading to the layer), energy its total. ZigZag's
chosen mapping is also evaluated by this model (:class:`LoopOrder`: one loop order cut per
operand), which compares the two cost models alone, mappers aside. This model runs with
``mac_operand_reuse`` (a MAC holds a weight or input across consecutive cycles on the same word),
as ZigZag's cost model does (``access_same_data_considered_as_no_access``); partial sums are
still counted as Timeloop counts them (no read before a partial sum's first update; a returning
partial sum written into one of the PEs that reduce it), where ZigZag reads every one and writes
a returning one into every reducing PE.

Targets (issue 12), with the same unrolling and hierarchy: Spearman across hardware >= 0.9 per
layer for latency and energy, median |error| <= 5% latency and <= 10% energy.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import hashlib
import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import yaml
from scipy.stats import spearmanr

from archgym_py._spec import shipped_spec_dir
from archgym_py._trace import atomic_write_text
from archgym_py.envs.accelerator.hierarchy import hierarchy_from_dict, load_hierarchy
from archgym_py.envs.accelerator.loopnest import LoopOrder, Problem, evaluate_order

ZOP = {"W": "I2", "I": "I1", "O": "O"}  # ZigZag's operand names
ZLOOP = {"N": "B", "K": "K", "C": "C", "P": "OY", "Q": "OX", "R": "FY", "S": "FX"}

#: Layers (ResNet-18, He et al. 2016; BERT-base FFN, Devlin et al. 2019), batch 1.
LAYERS = {
    "resnet18.conv2_x": Problem(K=64, C=64, P=56, Q=56, R=3, S=3),
    "resnet18.conv4_x": Problem(K=256, C=256, P=14, Q=14, R=3, S=3),
    "resnet18.proj3": Problem(K=128, C=64, P=28, Q=28, R=1, S=1),
    "bert.ffn1": Problem(K=3072, C=768, P=128),
}


def eyeriss_variants() -> dict[str, dict]:
    """Eyeriss and eight design points of our own around it."""
    base = yaml.safe_load(
        (shipped_spec_dir("accelerator") / "hierarchy" / "eyeriss.yaml").read_text()
    )

    def variant(name, edit):
        data = copy.deepcopy(base)
        edit(data)
        data["name"] = name
        return data

    def setv(d, path, value):
        *head, last = path
        for key in head:
            d = d[key]
        d[last] = {"value": value, "source": "derived: a design point of fidelity_zigzag.py (2026)"}

    return {
        "eyeriss": base,
        "array_8x8": variant("array_8x8", lambda d: (setv(d, ["array", "rows"], 8), setv(d, ["array", "cols"], 8))),
        "array_16x16": variant("array_16x16", lambda d: (setv(d, ["array", "rows"], 16), setv(d, ["array", "cols"], 16))),
        "glb_x4": variant("glb_x4", lambda d: setv(d, ["levels", 1, "capacity_bits"], 884736 * 4)),
        "glb_div4": variant("glb_div4", lambda d: setv(d, ["levels", 1, "capacity_bits"], 884736 // 4)),
        "dram_bw_x4": variant("dram_bw_x4", lambda d: setv(d, ["levels", 2, "bandwidth_bits_per_cycle"], 256)),
        "dram_bw_div2": variant("dram_bw_div2", lambda d: setv(d, ["levels", 2, "bandwidth_bits_per_cycle"], 32)),
        "ws_dataflow": variant("ws_dataflow", lambda d: d.update(dataflow={"rows": ["C"], "cols": ["K"]})),
        "rf_w_div4": variant("rf_w_div4", lambda d: setv(d, ["levels", 0, "capacity_bits", "W"], 896)),
    }  # fmt: skip


def _port(name: str, kind: str, width: float, ops, directions) -> dict:
    """One ZigZag memory port serving ``directions[op]`` (fh, tl, fl, th) of each operand."""
    alloc = [f"{ZOP[o]}, {d}" for o in ops for d in directions[o]]
    return {"name": name, "type": kind, "bandwidth_min": int(width),
            "bandwidth_max": int(width), "allocation": alloc}  # fmt: skip


def to_zigzag(h, problem: Problem) -> tuple[dict, list, list]:
    """ZigZag's hardware, mapping and workload for hierarchy ``h`` and one layer."""
    fanouts = h.fanouts()
    per_dim = h.unrolled_dims(problem)
    dims, sizes, owner, dims_name = [], [], [], []  # ZigZag array dimensions, innermost first
    for lv, (fan, _) in enumerate(fanouts):
        for name, size in fan.items():
            dims.append(f"D{len(dims) + 1}")
            sizes.append(size)
            owner.append(lv)
            dims_name.append(name)
    memories = {}
    for lv, level in enumerate(h.levels):
        # a memory instance is shared over the array dimensions below it (a per-PE level's own
        # fanout; every dimension for a chip level)
        served = [d for d, o in zip(dims, owner, strict=True) if o <= lv]
        groups = (
            [(op,) for op in sorted(level.keeps)]
            if isinstance(level.capacity_bits, dict)
            else [tuple(sorted(level.keeps))]
        )
        for ops in groups:
            # an unbounded level (this model's default for per-PE buffers) gets a port wide
            # enough for the distinct words of each operand that the MACs below it use each
            # cycle: its own fanout's loops multicast inputs and weights and reduce partial sums
            # (ZigZag charges every access at the port's width, so a wider port costs energy)
            own = {}
            for i, o in enumerate(owner):
                if o <= lv and o != h.array_level:
                    for loop, f in per_dim[o][dims_name[i]].items():
                        own[loop] = own.get(loop, 1) * f
            width = level.bandwidth_bits or max(
                h.precision_bits[o] * problem.footprint(o, own) for o in ops
            )
            size = (
                level.capacity_bits[ops[0]] if isinstance(level.capacity_bits, dict)
                else (level.capacity_bits or 10**13)
            )  # fmt: skip
            directions = {o: ["fh", "tl", "fl", "th"] if o == "O" else ["fh", "tl"] for o in ops}
            if level.bandwidth_bits:  # one port of the level's bandwidth, reads and writes
                ports = [_port("rw_port_1", "read_write", width, ops, directions)]
            else:
                # unbounded in this model: a port per direction (to and from the level below,
                # to and from the level above), each as wide as every MAC below needs per cycle,
                # so the MACs' reads and writes never queue behind fills and drains (ZigZag
                # charges every other transfer on a port the MACs use each cycle as a stall)
                used = [
                    d
                    for d in ("tl", "th", "fl", "fh")
                    if any(d in ds for ds in directions.values())
                ]
                ports = [
                    _port(f"{'r' if d in ('tl', 'th') else 'w'}_port_{k}", "read" if d in ("tl", "th") else "write",
                          width, ops, {o: [x for x in ds if x == d] for o, ds in directions.items()})
                    for k, d in enumerate(used, 1)
                ]  # fmt: skip
            memories[f"{level.name}_{''.join(ops)}"] = {
                "size": int(size),
                "r_cost": float(np.mean([level.read_pj_per_bit[o] for o in ops])) * width,
                "w_cost": float(np.mean([level.write_pj_per_bit[o] for o in ops])) * width,
                "area": 0, "latency": 1, "operands": [ZOP[o] for o in ops],
                "ports": ports,
                "served_dimensions": served,
            }  # fmt: skip
    hardware = {
        "name": h.name,
        "memories": memories,
        "operational_array": {"unit_energy": h.mac_energy_pj, "unit_area": 0, "dimensions": dims, "sizes": sizes},
    }  # fmt: skip
    spatial = {}
    k = 0
    for lv, (fan, _) in enumerate(fanouts):
        for name in fan:
            taken = per_dim[lv][name]
            spatial[dims[k]] = [f"{ZLOOP[loop]}, {f}" for loop, f in taken.items()] or ["K, 1"]
            k += 1
    mapping = [{"name": "default", "spatial_mapping": spatial,
                "memory_operand_links": {"O": "O", "W": "I2", "I": "I1"}}]  # fmt: skip
    b = problem.bounds
    layer = {
        "id": 0, "name": "layer", "operator_type": "Conv",
        "equation": "O[b][k][oy][ox]+=W[k][c][fy][fx]*I[b][c][iy][ix]",
        "dimension_relations": [f"ix={problem.stride}*ox+1*fx", f"iy={problem.stride}*oy+1*fy"],
        "loop_dims": ["B", "K", "C", "OY", "OX", "FY", "FX"],
        "loop_sizes": [b["N"], b["K"], b["C"], b["P"], b["Q"], b["R"], b["S"]],
        "operand_precision": {"I": h.precision_bits["I"], "W": h.precision_bits["W"],
                              "O": h.precision_bits["O"], "O_final": h.precision_bits["O"]},
        "operand_source": {"I": 0},
    }  # fmt: skip
    return hardware, mapping, [layer]


ZIGZAG_RUNNER = """
import glob, json, sys
from zigzag.api import get_hardware_performance_zigzag
energy, latency, _ = get_hardware_performance_zigzag(
    sys.argv[1], sys.argv[2], sys.argv[3], opt=sys.argv[5], dump_folder=sys.argv[4],
    loma_show_progress_bar=False)
dump = json.load(open(glob.glob(sys.argv[4] + "/*complete.json")[0]))
print(json.dumps({"energy_pj": energy, "cycles": latency,
                  "temporal_mapping": dump["inputs"]["temporal_mapping"]}))
"""
ZINV = {v: k for k, v in ZLOOP.items()}


def zigzag_order(h, problem: Problem, temporal_mapping: dict) -> LoopOrder:
    """ZigZag's temporal mapping (per operand, per memory level, loops innermost first) as this
    model's LoopOrder: one loop order, each operand cut where its memories are."""
    per = {}
    for op, zop in (("W", "W"), ("I", "I"), ("O", "O")):
        per[op] = [
            [
                (ZINV[m.group(1)], int(m.group(2)))
                for m in (re.match(r"\((\w+), (\d+)\)", x) for x in lv)
            ]
            for lv in temporal_mapping[zop]
        ]
    loops = [loop for lv in per["O"] for loop in lv]
    cuts = {op: [sum(len(x) for x in per[op][: i + 1]) for i in range(len(per[op]))] for op in per}
    return LoopOrder(loops, cuts, h.spatial(problem))


def run_zigzag(
    python: str,
    hardware,
    mapping,
    workload,
    work: Path,
    opt: str = "latency",
    cache: dict | None = None,
) -> dict:
    """ZigZag's best mapping for ``opt`` (latency or energy), its cycles, energy and mapping;
    with ``cache``, an earlier run's answer on the very same inputs (keyed by their hash)."""
    key = hashlib.sha256(json.dumps([hardware, mapping, workload, opt], sort_keys=True)
                         .encode()).hexdigest()  # fmt: skip
    if cache is not None and key in cache:
        return cache[key]
    for name, data in (("hw.yaml", hardware), ("map.yaml", mapping), ("wl.yaml", workload)):
        (work / name).write_text(yaml.safe_dump(data, sort_keys=False))
    out = subprocess.run(
        [python, "-c", ZIGZAG_RUNNER, str(work / "wl.yaml"), str(work / "hw.yaml"),
         str(work / "map.yaml"), str(work / f"out_{opt}"), opt],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if cache is not None:
        cache[key] = result
    return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--zigzag-python", required=True, help="a Python with zigzag-dse installed")
    ap.add_argument(
        "--cache",
        type=Path,
        help="a JSON file of ZigZag's answers keyed by its inputs, read and extended (a rerun "
        "after a change to this model alone then takes seconds; delete it when ZigZag changes)",
    )
    args = ap.parse_args()
    archs = {name: hierarchy_from_dict(data) for name, data in eyeriss_variants().items()}
    archs["simba"] = load_hierarchy("simba")
    # ZigZag's cost model holds each operand in the MAC across consecutive cycles on one word
    archs = {name: dataclasses.replace(h, mac_operand_reuse=True) for name, h in archs.items()}
    cache = json.loads(args.cache.read_text()) if args.cache and args.cache.exists() else None
    if args.cache and cache is None:
        cache = {}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for arch_name, h in archs.items():
            for layer_name, problem in LAYERS.items():
                # ZigZag's latency includes the first fills and last drains: serial loading
                _, ours = h.map(problem, objective="latency", samples=8192, loading="serial")
                ref = run_zigzag(args.zigzag_python, *to_zigzag(h, problem), Path(tmp),
                                 cache=cache)  # fmt: skip
                # ZigZag's own mapping evaluated here: the cost models alone, mappers aside
                same = evaluate_order(problem, h.loopnest_levels(h.spatial(problem)),
                                      zigzag_order(h, problem, ref["temporal_mapping"]),
                                      mac_pj=h.mac_energy_pj, loading="serial",
                                      mac_reuse=h.mac_operand_reuse)  # fmt: skip
                # each tool's energy-optimal mapping: the energy comparison at equal objectives
                _, ours_e = h.map(problem, objective="energy", samples=8192, loading="serial")
                ref_e = run_zigzag(args.zigzag_python, *to_zigzag(h, problem), Path(tmp), "energy",
                                   cache=cache)  # fmt: skip
                if args.cache:
                    atomic_write_text(args.cache, json.dumps(cache))
                rows.append((arch_name, layer_name, ours.cycles, ref["cycles"],
                             ours.total_energy_pj, ref["energy_pj"], same.cycles,
                             same.total_energy_pj, ours_e.total_energy_pj,
                             ref_e["energy_pj"]))  # fmt: skip
                print(f"{arch_name:<13} {layer_name:<17} cycles {ours.cycles:>12,.0f} vs {ref['cycles']:>12,.0f} "
                      f"({ours.cycles / ref['cycles'] - 1:+.1%}; its mapping {same.cycles / ref['cycles'] - 1:+.1%})   "
                      f"energy {ours.total_energy_pj / 1e6:>9.2f} vs {ref['energy_pj'] / 1e6:>9.2f} uJ "
                      f"({ours.total_energy_pj / ref['energy_pj'] - 1:+.1%}; its mapping "
                      f"{same.total_energy_pj / ref['energy_pj'] - 1:+.1%}; energy-optimal "
                      f"{ours_e.total_energy_pj / ref_e['energy_pj'] - 1:+.1%})", flush=True)  # fmt: skip
    lat_err = [abs(r[2] / r[3] - 1) for r in rows]
    en_err = [abs(r[4] / r[5] - 1) for r in rows]
    print(f"\nmedian |error|, each with its own mapper: latency {np.median(lat_err):.1%} (target <= 5%), "
          f"energy {np.median(en_err):.1%} (target <= 10%)")  # fmt: skip
    en_opt = [abs(r[8] / r[9] - 1) for r in rows]
    print(f"median |error| of energy, each mapping for energy: {np.median(en_opt):.1%} "
          f"(worst {max(en_opt):.1%})")  # fmt: skip
    lat_same = [abs(r[6] / r[3] - 1) for r in rows]
    en_same = [abs(r[7] / r[5] - 1) for r in rows]
    print(f"median |error| on ZigZag's own mapping (the cost models alone): latency "
          f"{np.median(lat_same):.1%}, energy {np.median(en_same):.1%}")  # fmt: skip
    for layer_name in LAYERS:
        mine = [r for r in rows if r[1] == layer_name]
        rl = spearmanr([r[2] for r in mine], [r[3] for r in mine]).statistic
        re = spearmanr([r[4] for r in mine], [r[5] for r in mine]).statistic
        sl = spearmanr([r[6] for r in mine], [r[3] for r in mine]).statistic
        se = spearmanr([r[7] for r in mine], [r[5] for r in mine]).statistic
        eo = spearmanr([r[8] for r in mine], [r[9] for r in mine]).statistic
        print(f"{layer_name:<17} Spearman across {len(mine)} architectures: latency {rl:+.2f}, "
              f"energy {re:+.2f} (target >= 0.9); on ZigZag's mapping {sl:+.2f}, {se:+.2f}; "
              f"energy-optimal energy {eo:+.2f}")  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
