"""Every shipped spec loads; malformed specs fail with the key path and a suggestion."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import pytest
import yaml

from archgym_py import SpecError, load_env_spec
from archgym_py._spec import shipped_spec_dir
from archgym_py.envs import ENVS
from archgym_py.envs.accelerator import load_arch
from archgym_py.envs.accelerator.arch import arch_from_dict

SPEC_ROOT = shipped_spec_dir("")
ARCH_FILES = sorted((SPEC_ROOT / "accelerator" / "arch").glob("*.yaml"))
DRAM_ARCH_FILES = sorted((SPEC_ROOT / "dram" / "arch").glob("*.yaml"))
GPU_ARCH_FILES = sorted((SPEC_ROOT / "gpu" / "arch").glob("*.yaml"))
GPU_DESIGN_FILES = sorted((SPEC_ROOT / "gpu" / "design").glob("*.yaml"))
CODESIGN_FILES = sorted((SPEC_ROOT / "accelerator" / "codesign").glob("*.yaml"))
CLUSTER_ARCH_FILES = sorted((SPEC_ROOT / "cluster" / "arch").glob("*.yaml"))
CLUSTER_DESIGN_FILES = sorted((SPEC_ROOT / "cluster" / "design").glob("*.yaml"))
MODEL_FILES = sorted((SPEC_ROOT / "models").glob("*.yaml"))
BEST_KNOWN_FILES = sorted(SPEC_ROOT.glob("*/best_known.yaml"))
HIERARCHY_FILES = sorted((SPEC_ROOT / "accelerator" / "hierarchy").glob("*.yaml"))

#: A citation names a year, a standard, a preprint, a part number, a datasheet, or the config of a
#: named reference tool, or says it is derived or an assumption (and why); a bare word is not one.
CITED = re.compile(
    r"(19|20)\d\d|JESD|arXiv|config\.json|datasheet|whitepaper|DRAMSys|DRAMSim3|gem5|MT\d\d|"
    r"AI-benchmarking-guide|vLLM|derived:|assumption:",
    re.IGNORECASE,
)


def test_the_citation_rule_rejects_bare_words():
    assert not CITED.search("see paper") and not CITED.search("Horowitz")
    assert CITED.search("Horowitz, ISSCC 2014") and CITED.search("assumption: two ports")


def test_every_shipped_yaml_is_loaded_by_a_test():
    shipped = sorted(SPEC_ROOT.rglob("*.yaml"))
    covered = set(ARCH_FILES) | set(DRAM_ARCH_FILES) | set(GPU_ARCH_FILES) | set(MODEL_FILES)
    covered |= set(GPU_DESIGN_FILES) | set(CLUSTER_ARCH_FILES) | set(CODESIGN_FILES)
    covered |= set(CLUSTER_DESIGN_FILES)
    covered |= set(BEST_KNOWN_FILES)
    covered |= set(HIERARCHY_FILES)
    covered |= {SPEC_ROOT / spec for spec in ENVS.values()}
    # Model cards of the shipped surrogates: tests/surrogate/test_surrogate.py reads each one.
    from archgym_py.surrogate import shipped_surrogate_dir

    covered |= {shipped_surrogate_dir(env_id) / "card.yaml" for env_id in ENVS}
    assert set(shipped) == covered, "a shipped spec is not covered by test_spec.py"


def _arch_types():
    from archgym_py.envs.accelerator import AcceleratorArch
    from archgym_py.envs.accelerator.codesign import CoDesignArch
    from archgym_py.envs.cluster import ClusterArch, ClusterDesignArch
    from archgym_py.envs.dram import DramArch
    from archgym_py.envs.gpu import GpuArch, GpuDesignArch
    from archgym_py.envs.workloads import TransformerConfig

    return (
        [(path, AcceleratorArch) for path in ARCH_FILES]
        + [(path, DramArch) for path in DRAM_ARCH_FILES]
        + [(path, GpuArch) for path in GPU_ARCH_FILES]
        + [(path, GpuDesignArch) for path in GPU_DESIGN_FILES]
        + [(path, CoDesignArch) for path in CODESIGN_FILES]
        + [(path, ClusterArch) for path in CLUSTER_ARCH_FILES]
        + [(path, ClusterDesignArch) for path in CLUSTER_DESIGN_FILES]
        + [(path, TransformerConfig) for path in MODEL_FILES]
    )


@pytest.mark.parametrize("path, kind", _arch_types(), ids=lambda x: getattr(x, "stem", ""))
def test_shipped_spec_loads_with_a_cited_source_for_every_value(path: Path, kind):
    # Base architectures, memory systems and model configs share one Arch loader.
    arch = kind.load(path)
    data = yaml.safe_load(path.read_text())
    assert set(arch.sources) == set(data["architecture"]) == set(arch.values)
    assert all(CITED.search(src) for src in arch.sources.values()), arch.sources
    assert arch.to_dict() == kind.from_dict(arch.to_dict()).to_dict()  # the YAML form round-trips


@pytest.mark.parametrize("path", HIERARCHY_FILES, ids=lambda p: p.stem)
def test_shipped_hierarchy_loads_with_a_cited_source_for_every_number(path: Path):
    from archgym_py.envs.accelerator.hierarchy import load_hierarchy

    h = load_hierarchy(path)
    assert h.sources and all(CITED.search(src) for src in h.sources.values()), h.sources


@pytest.mark.parametrize("env_id", sorted(ENVS))
def test_shipped_env_spec_loads(env_id):
    spec = load_env_spec(str(SPEC_ROOT / ENVS[env_id]))
    assert spec.id == env_id and spec.max_steps > 0 and len(spec.space) > 0


@pytest.fixture
def eyeriss_dict():
    return yaml.safe_load((SPEC_ROOT / "accelerator" / "arch" / "eyeriss.yaml").read_text())


def _expect(data, message):
    with pytest.raises(SpecError) as err:
        arch_from_dict(data, path="eyeriss.yaml")
    assert message in str(err.value)


def test_unknown_key_names_path_and_suggests(eyeriss_dict):
    bad = copy.deepcopy(eyeriss_dict)
    bad["architecture"]["glb_kb"] = bad["architecture"].pop("glb_kib")
    _expect(bad, "eyeriss.yaml.architecture: unknown key 'glb_kb' (did you mean 'glb_kib'?)")


def test_constant_without_source_is_rejected(eyeriss_dict):
    bad = copy.deepcopy(eyeriss_dict)
    bad["architecture"]["pe_rows"] = 12
    _expect(bad, "eyeriss.yaml.architecture.pe_rows: a constant is written {value: ..., source:")


def test_empty_source_is_rejected(eyeriss_dict):
    bad = copy.deepcopy(eyeriss_dict)
    bad["architecture"]["pe_rows"]["source"] = " "
    _expect(bad, "eyeriss.yaml.architecture.pe_rows.source: must name a datasheet")


def test_wrong_type_and_range(eyeriss_dict):
    bad = copy.deepcopy(eyeriss_dict)
    bad["architecture"]["pe_rows"]["value"] = "twelve"
    _expect(
        bad,
        "eyeriss.yaml.architecture.pe_rows: expected a number (rows of the PE array), got 'twelve'",
    )
    bad["architecture"]["pe_rows"]["value"] = 0
    _expect(bad, "eyeriss.yaml.architecture.pe_rows: got 0; expected >= 1")
    bad["architecture"]["pe_rows"]["value"] = 12
    bad["architecture"]["dataflow"]["value"] = "XS"
    _expect(bad, "unknown value 'XS'")


def test_spec_version_and_missing_key(eyeriss_dict):
    bad = copy.deepcopy(eyeriss_dict)
    bad["spec_version"] = 7
    _expect(bad, "eyeriss.yaml.spec_version: got 7; expected one of [1]")
    bad = copy.deepcopy(eyeriss_dict)
    del bad["architecture"]["clock_mhz"]
    _expect(bad, "eyeriss.yaml.architecture: missing required key 'clock_mhz'")


def test_cross_field_rules(eyeriss_dict):
    bad = copy.deepcopy(eyeriss_dict)
    bad["architecture"]["accum_bits"]["value"] = 8
    _expect(bad, "accum_bits: got 8; expected >= data_bits (16)")
    bad = copy.deepcopy(eyeriss_dict)
    bad["architecture"]["rf_bytes"]["value"] = 4
    _expect(
        bad,
        "rf_bytes: got 4; a PE must hold at least one weight, one input and one partial sum (6 bytes)",
    )


def test_env_spec_cross_field_checks(tmp_path):
    data = yaml.safe_load((SPEC_ROOT / "accelerator" / "env.yaml").read_text())
    data["design_space"]["parameters"][0]["name"] = "pe_rowz"
    path = tmp_path / "env.yaml"
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(
        SpecError, match=r"unknown accelerator knob 'pe_rowz' \(did you mean 'pe_rows'\?\)"
    ):
        load_env_spec(str(path))
    data["design_space"]["parameters"][0]["name"] = "pe_rows"
    data["objectives"]["edp"]["weights"] = {"latency": 1.0}
    path.write_text(yaml.safe_dump(data))
    with pytest.raises(Exception, match=r"unknown metric 'latency' \(did you mean 'latency_s'\?\)"):
        load_env_spec(str(path))


def test_invalid_yaml_names_file_and_line(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text("spec_version: 1\nname: [unclosed\n")
    with pytest.raises(SpecError, match=r"broken.yaml:\d+: invalid YAML"):
        load_arch(path)


def test_yaml_aliases_of_lists_and_mappings_are_refused(tmp_path):
    # Issue 15: a 2.9 KB "billion laughs" file exhausted memory when its text was printed.
    from archgym_py._spec import load_yaml

    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(
        "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    )
    with pytest.raises(
        SpecError, match=r"bomb.yaml:2: invalid YAML: alias \*a names a list or mapping"
    ):
        load_yaml(bomb)
    shared = tmp_path / "shared.yaml"  # an alias of one value (a shared source) is fine
    shared.write_text("x: {value: 1, source: &s 'JESD79-4'}\ny: {value: 2, source: *s}\n")
    assert load_yaml(shared)["y"]["source"] == "JESD79-4"


@pytest.mark.parametrize("path", BEST_KNOWN_FILES, ids=lambda p: p.parent.name)
def test_best_known_designs_are_valid_and_still_score_what_they_scored(path: Path):
    # A sweep on a space too large to enumerate scores runs against these (re-evaluated): each
    # must be a valid, feasible design of its env that still gets the reward it was found with
    # (a model change that moves it fails here: re-run benchmarks/best_known.py --write).
    from archgym_py import make_core
    from archgym_py.sweep._best_known import best_known, best_known_entries

    entries = best_known_entries(path.parent)
    assert entries
    for entry in entries:
        core = make_core(
            entry["env"],
            arch=entry["arch"],
            workload=entry["workload"],
            objective=entry["objective"],
        )
        reward, design, search = best_known(core)
        assert reward == pytest.approx(entry["reward_when_found"], abs=1e-6), (
            entry["workload"],
            reward,
        )
        assert reward > core.default_result[1][0] + 1.0  # far better than the base design
        assert design == core.space.validate(entry["design"]) and "evaluations" in search
