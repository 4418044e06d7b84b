"""The hierarchy language: loading with cited values and path-named errors, the array's greedy
unrolling, the conversion to the loop-nest model, and mapping a layer on the shipped Eyeriss."""

from __future__ import annotations

import copy

import pytest
import yaml

from archgym_py import SpecError
from archgym_py._spec import shipped_spec_dir
from archgym_py.envs.accelerator.hierarchy import hierarchy_from_dict, load_hierarchy
from archgym_py.envs.accelerator.loopnest import LevelMapping, Problem

EYERISS_YAML = shipped_spec_dir("accelerator") / "hierarchy" / "eyeriss.yaml"
# AlexNet CONV3 (Krizhevsky et al., 2012): 384 filters of 3 x 3 x 256 on a 13 x 13 output
CONV3 = Problem(K=384, C=256, P=13, Q=13, R=3, S=3)


def raw():
    return yaml.safe_load(EYERISS_YAML.read_text())


def test_eyeriss_loads_with_a_source_for_every_number():
    h = load_hierarchy("eyeriss")
    assert h.pes == 168 and h.array_level == 1
    assert [lv.name for lv in h.levels] == ["RF", "GLB", "DRAM"]
    assert h.levels[1].keeps == frozenset("IO")  # filters bypass the global buffer
    from tests.test_spec import CITED  # the shipped specs' citation rule

    assert len(h.sources) == 19 and all(CITED.search(src) for src in h.sources.values())
    assert h.sources["levels[1].capacity_bits"].startswith("Chen et al., ISSCC 2016")


def test_the_array_unrolls_loops_greedily_in_dataflow_order():
    h = load_hierarchy("eyeriss")
    # rows (12) serve R then C: R = 3, then 4 channels; columns (14) serve P then K: P = 13
    assert h.unrolling(CONV3) == {"R": 3, "C": 4, "P": 13}
    # a loop that does not divide takes its largest divisor that fits: C = 6 on 12 / 3 = 4 -> 3
    # and K = 8 on the 14 / 2 = 7 columns left -> 4
    assert h.unrolling(Problem(K=8, C=6, P=2, R=3)) == {"R": 3, "C": 3, "P": 2, "K": 4}


def test_levels_convert_bits_to_words_and_instance_the_used_pes():
    h = load_hierarchy("eyeriss")
    rf, glb, dram = h.loopnest_levels([{}, {"R": 3, "C": 4, "P": 13}, {}])
    assert rf.instances == 156 and glb.instances == dram.instances == 1
    assert rf.capacity_words == {"I": 12, "O": 24, "W": 224}
    assert glb.capacity_bits == 884736  # 108 KB shared by ifmaps and psums, checked in bits
    assert dram.capacity_words is None
    assert dram.read_pj == {"W": 170.0, "I": 170.0, "O": 170.0}  # 200 x 0.85 pJ per word
    assert glb.transfer_cycles({"I": 16, "O": 0, "W": 0}) == 2.0  # 16 words x 16 b / 128 b


def test_mapping_conv3_reads_every_weight_from_dram_once_when_it_minimises_energy():
    h = load_hierarchy("eyeriss")
    mapping, cost = h.map(CONV3, objective="energy", samples=8192)
    assert cost.reads[("DRAM", "W")] == 384 * 256 * 9  # compulsory: no weight read twice
    assert cost.reads[("DRAM", "I")] >= 256 * 15 * 15  # at least every input word once
    assert cost.compute_cycles == CONV3.macs // 156
    assert h.evaluate(CONV3, mapping).total_energy_pj == pytest.approx(cost.total_energy_pj)


def test_macs_holding_operands_read_each_repeated_weight_once():
    data = raw()
    data["mac_operand_reuse"] = {"value": True, "source": "Mei et al., IEEE TC 2021 (ZigZag)"}
    h, plain = hierarchy_from_dict(data), load_hierarchy("eyeriss")
    assert h.mac_operand_reuse and not plain.mac_operand_reuse
    # the output columns (Q) innermost: each weight serves 13 consecutive MACs
    mapping = [LevelMapping(), LevelMapping([("Q", 13)], h.unrolling(CONV3)),
               LevelMapping([("K", 384), ("C", 64), ("S", 3)])]  # fmt: skip
    held, every = h.evaluate(CONV3, mapping), plain.evaluate(CONV3, mapping)
    assert held.reads[("RF", "W")] * 13 == every.reads[("RF", "W")] == CONV3.macs
    assert held.reads[("RF", "O")] == every.reads[("RF", "O")]  # partial sums: unchanged
    assert held.reads[("DRAM", "W")] == every.reads[("DRAM", "W")]  # only the MAC's reads go
    assert h.sources["mac_operand_reuse"].startswith("Mei et al.")


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda d: d["levels"][0]["capacity_bits"].pop("I"),
            r"levels\[0\].capacity_bits: missing required key 'I'",
        ),
        (lambda d: d["levels"][1].update(keeps=["X"]), r"levels\[1\].keeps: got \['X'\]"),
        (
            lambda d: d["levels"][2].update(keeps=["W", "I"]),
            r"levels\[2\].keeps: the outermost level must keep",
        ),
        (
            lambda d: d["levels"][1].pop("capacity_bits"),
            r"levels\[1\]: missing required key 'capacity_bits'",
        ),
        (lambda d: d["dataflow"].update(rows=["R", "Z"]), r"dataflow.rows: got \['R', 'Z'\]"),
        (lambda d: d["array"].update(rows={"value": 0, "source": "x 2020"}), r"array.rows"),
        (
            lambda d: [d["levels"][0].update(per_pe=False), d["levels"][1].update(per_pe=True)],
            r"per-PE levels come first",
        ),
        (lambda d: d["precision_bits"].pop("O"), r"precision_bits: missing required key 'O'"),
        (
            lambda d: d.update(mac_operand_reuse={"value": "yes", "source": "x 2020"}),
            r"mac_operand_reuse: expected true/false, got 'yes'",
        ),
    ],
)
def test_bad_specs_name_the_path(edit, message):
    data = copy.deepcopy(raw())
    edit(data)
    with pytest.raises(SpecError, match=message):
        hierarchy_from_dict(data)


def test_tpu_v1_is_weight_stationary_with_inputs_multicast_and_sums_reduced():
    h = load_hierarchy("tpu_v1")
    assert h.pes == 65536 and h.array_level == 1
    # channels on the 256 rows, filters on the columns (384's largest divisor <= 256: 192)
    assert h.unrolling(CONV3) == {"C": 256, "K": 192}
    mapping, cost = h.map(CONV3, objective="edp", samples=4096)
    # the MACs read inputs from the unified buffer once per row (multicast over the 192 columns)
    # and update the accumulators once per column (reduced over the 256 rows)
    assert cost.reads[("UnifiedBuffer", "I")] == CONV3.macs // 192
    assert cost.writes[("Accumulators", "O")] == CONV3.macs // 256
    assert cost.reads[("Cell", "W")] == CONV3.macs  # every MAC reads its cell's weight


def test_simba_fans_out_twice_pes_then_vector_macs_inside_each_pe():
    h = load_hierarchy("simba")
    assert h.pes == 16 and h.levels[0].fanout == {"lanes": 8, "vector": 8}
    # innermost first: 8 lanes over K, 8-wide dot products over C; then the 4 x 4 PEs
    assert h.spatial(CONV3) == [{"K": 8, "C": 8}, {"K": 4, "C": 4}, {}]
    mapping, cost = h.map(CONV3, objective="edp", samples=4096)
    assert cost.compute_cycles == CONV3.macs // 1024  # 16 PEs x 64 MACs, all busy
    # each 8-wide dot product adds into one accumulator: updates = MACs / 8
    assert cost.writes[("PEBuffers", "O")] >= CONV3.macs // 8
    assert cost.reads[("PEBuffers", "W")] == CONV3.macs  # every MAC reads its weight


@pytest.mark.parametrize(
    "edit, message",
    [
        (
            lambda d: d["levels"][1].update(fanout={"x": {"value": 2, "source": "x 2020"}}),
            r"levels\[1\].fanout: the first chip level fans out to the PE array",
        ),
        (
            lambda d: d["levels"][0].update(serves={"lanes": ["K"]}),
            r"levels\[0\].serves: a level serves loops only with a fanout",
        ),
    ],
)
def test_fanouts_are_checked(edit, message):
    data = copy.deepcopy(raw())
    edit(data)
    with pytest.raises(SpecError, match=message):
        hierarchy_from_dict(data)
