"""The cluster model against published training steps: MLPerf Training's GPT-3 175B and Llama 3.1
405B runs, through ``benchmarks/fidelity_cluster.py``'s tables (held out: nothing in the model is
fitted to them). Bounds are set where the model is today, as the README reports it, so a change
that moves the model away from these runs, or closes a gap the README still states, fails here."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).parents[3] / "benchmarks" / "fidelity_cluster.py"


@pytest.fixture(scope="module")
def fidelity():
    spec = importlib.util.spec_from_file_location("fidelity_cluster", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_llama31_405b_on_h100_is_within_ten_percent_at_every_scale(fidelity, capsys):
    # NVIDIA's Eos-dfw runs, 512 to 8,192 H100 (MLPerf v5.0): the model is 8.7-9.6% fast, flat
    # across scale; H200 +14.5%; every Blackwell run about a third fast (B200/GB200 kernel
    # efficiencies are assumptions borrowed from H200; the README says so)
    errors = np.array(fidelity.mlperf_llama31())
    gpus = np.array([row[2] for row in fidelity.MLPERF_LLAMA31])
    assert len(errors) == 16
    assert "compute_s" in capsys.readouterr().out
    h100 = errors[gpus == "h100_sxm"]
    assert len(h100) == 5 and ((h100 > 0.05) & (h100 < 0.10)).all()
    assert np.ptp(h100) < 0.02  # flat from 512 to 8,192 GPUs
    assert ((errors[gpus == "h200"] > 0.10) & (errors[gpus == "h200"] < 0.20)).all()
    blackwell = errors[np.isin(gpus, ["b200", "gb200"])]
    assert len(blackwell) == 9 and ((blackwell > 0.25) & (blackwell < 0.40)).all()


def test_gpt3_175b_mlperf_steps_on_h100(fidelity):
    # v3.1 (NeMo 23.09) +6.5% to +15.6%, v4.x +4.8% to +8.7% at 256-512 GPUs, the two
    # 10,000-GPU v4.0 runs within 1%; the 64-B200 preview +11.9%
    errors = dict(zip([row[0] for row in fidelity.MLPERF_GPT3], fidelity.mlperf(), strict=True))
    assert abs(errors["v4.0 eos-dfw_n1344"]) < 0.03 and abs(errors["v4.0 eos-dfw_n1452"]) < 0.03
    small = [errors[name] for name in ("v4.0 eos_n64", "v4.1 eos_n32", "v4.1 eos_n64")]
    assert all(0.0 < e < 0.10 for e in small)
    v31 = [e for name, e in errors.items() if name.startswith("v3.1")]
    assert len(v31) == 8 and all(0.05 < e < 0.17 for e in v31)
