"""DesignSpace and parameter kinds: encodings, validation messages, sampling, Optuna."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from gymnasium import spaces

from archgym_py import (
    Boolean,
    Categorical,
    DesignError,
    DesignSpace,
    Integer,
    PowerOfTwo,
    Real,
    SpecError,
)


@pytest.fixture
def space():
    return DesignSpace(
        [
            Integer("rows", low=2, high=16, step=2, unit="PEs", default=8),
            PowerOfTwo("glb_kib", low=8, high=1024, unit="KiB"),
            Real("bw", low=1.0, high=16.0, log=True, levels=5),
            Categorical("dataflow", values=("WS", "OS", "RS")),
            Boolean("multicast"),
        ],
        constraints=["rows * glb_kib <= 8192"],
        name="test space",
    )


def test_levels_and_size(space):
    assert space["rows"].choices == (2, 4, 6, 8, 10, 12, 14, 16)
    assert space["glb_kib"].choices == (8, 16, 32, 64, 128, 256, 512, 1024)
    assert space["bw"].choices == (1.0, 2.0, 4.0, 8.0, 16.0)
    assert space.size == math.inf  # a real parameter is continuous
    assert list(space.nvec) == [8, 8, 5, 3, 2]
    discrete = DesignSpace([p for p in space.params if p.name != "bw"])
    assert discrete.size == 8 * 8 * 3 * 2


def test_default_and_validate(space):
    assert space.default() == {
        "rows": 8,
        "glb_kib": 8,
        "bw": 1.0,
        "dataflow": "WS",
        "multicast": False,
    }
    design = space.validate(
        {"rows": "12", "glb_kib": 64, "bw": 3.5, "dataflow": "RS", "multicast": "true"}
    )
    assert design == {"rows": 12, "glb_kib": 64, "bw": 3.5, "dataflow": "RS", "multicast": True}


@pytest.mark.parametrize(
    "design, message",
    [
        ({"rows": 3}, "parameter 'rows': got 3 PEs; expected an integer in [2, 16] with step 2"),
        (
            {"glb_kib": 100},
            "parameter 'glb_kib': got 100 KiB; expected a power of two in [8, 16, 32",
        ),
        ({"dataflow": "rs"}, "expected one of ['WS', 'OS', 'RS'] (did you mean 'RS'?)"),
        ({"bw": 20.0}, "parameter 'bw': got 20.0; expected a real number in [1.0, 16.0]"),
        ({"row": 4}, "unknown parameter 'row' (did you mean 'rows'?)"),
        ({"multicast": "maybe"}, "parameter 'multicast': got 'maybe'; expected true or false"),
        (
            {"rows": 16, "glb_kib": 1024},
            "violates constraint 'rows * glb_kib <= 8192' with {'rows': 16, 'glb_kib': 1024}",
        ),
    ],
)
def test_validate_errors_name_parameter_value_and_allowed_set(space, design, message):
    with pytest.raises(DesignError) as err:
        space.validate(design, partial=True)
    assert message in str(err.value)


def test_missing_parameter_is_an_error_unless_partial(space):
    with pytest.raises(DesignError, match="parameter 'glb_kib' is missing"):
        space.validate({"rows": 4})


def test_indices_round_trip_and_gym_spaces(space):
    batch = space.sample(200, seed=1)
    idx = space.to_indices(batch)
    back = space.from_indices(idx)
    for name in ("rows", "glb_kib", "dataflow", "multicast"):
        assert np.array_equal(back[name], batch[name])
    md = space.gym_space()
    assert isinstance(md, spaces.MultiDiscrete) and list(md.nvec) == [8, 8, 5, 3, 2]
    assert all(md.contains(row) for row in idx[:, :])  # real knob snaps to a level index
    assert isinstance(space.gym_space("box"), spaces.Box)
    assert isinstance(space.gym_space("dict"), spaces.Dict)
    one = space.from_action(
        {"rows": 1, "glb_kib": 2, "bw": 4, "dataflow": 0, "multicast": 1}, "dict"
    )
    assert (
        one["rows"][0] == 4
        and one["glb_kib"][0] == 32
        and one["bw"][0] == 16.0
        and one["multicast"][0]
    )


def test_out_of_range_index_names_parameter(space):
    with pytest.raises(
        DesignError, match=r"action index 8 for parameter 'glb_kib' is out of range; expected 0..7"
    ):
        space.from_indices(np.array([[0, 8, 0, 0, 0]]))


def test_unit_cube_round_trip(space):
    batch = space.sample(100, seed=2, method="lhs")
    u = space.to_unit(batch)
    assert u.shape == (100, 5) and u.min() >= 0 and u.max() <= 1
    back = space.from_unit(u)
    assert np.allclose(back["bw"], batch["bw"])
    assert np.array_equal(back["dataflow"], batch["dataflow"])
    idx = space.to_indices(back)
    # Level centres from indices equal to_unit of the level values (the env's fast path).
    levels = space.from_indices(idx)
    assert np.allclose(space.unit_of_indices(idx), space.to_unit(levels))


@pytest.mark.parametrize("method", ["uniform", "sobol", "lhs"])
def test_sampling_is_seeded_feasible_and_covers_levels(space, method):
    a, b = space.sample(256, seed=3, method=method), space.sample(256, seed=3, method=method)
    c = space.sample(256, seed=4, method=method)
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert not all(np.array_equal(a[k], c[k]) for k in a)
    assert space.feasible(a).all() and len(a["rows"]) == 256
    assert set(a["dataflow"]) == {"WS", "OS", "RS"}


def test_grid_enumerates_feasible_designs():
    s = DesignSpace(
        [Integer("a", low=1, high=4), PowerOfTwo("b", low=1, high=8)], constraints=["a * b <= 8"]
    )
    grid = s.grid()
    pairs = set(zip(grid["a"].tolist(), grid["b"].tolist(), strict=True))
    assert pairs == {(a, b) for a in range(1, 5) for b in (1, 2, 4, 8) if a * b <= 8}
    with pytest.raises(DesignError, match="more than the grid limit"):
        s.grid(limit=3)


def test_features(space):
    batch = space.batch(
        [{"rows": 4, "glb_kib": 64, "bw": 2.0, "dataflow": "OS", "multicast": True}]
    )
    f = space.features(batch)
    assert space.feature_names == ("rows", "log2(glb_kib)", "log(bw)", "dataflow=WS", "dataflow=OS",
                                   "dataflow=RS", "multicast")  # fmt: skip
    assert np.allclose(f[0], [4, 6, math.log(2.0), 0, 1, 0, 1])


def test_optuna_suggest_and_back(space):
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    trial = study.ask()
    design = space.suggest(trial)
    assert space.validate(design, check_constraints=False) == design
    assert space.from_optuna_params(trial.params) == design
    # Names and values users read: the knob's own name and value, not an exponent or an index.
    assert set(trial.params) == {"rows", "glb_kib", "bw", "dataflow", "multicast"}
    assert (
        trial.params["glb_kib"] == design["glb_kib"]
        and design["glb_kib"] in space["glb_kib"].choices
    )
    other = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    on_grid = space.suggest(other.ask(), on_levels=True)  # a real knob offers only its levels
    assert on_grid["bw"] in space["bw"].choices


def test_dict_round_trip_and_hash(space):
    again = DesignSpace.from_dict(space.to_dict())
    assert again.to_dict() == space.to_dict() and again.hash() == space.hash()
    other = DesignSpace.from_dict({**space.to_dict(), "constraints": ["rows <= 8"]})
    assert other.hash() != space.hash()


@pytest.mark.parametrize(
    "data, message",
    [
        (
            {"parameters": [{"name": "a", "kind": "integer", "low": 1, "high": 2}]},
            "unknown parameter kind 'integer' (did you mean 'int'?)",
        ),
        (
            {"parameters": [{"name": "a", "kind": "int", "low": 1, "hihg": 2}]},
            "unknown key 'hihg' (did you mean 'high'?)",
        ),
        (
            {"parameters": [{"name": "a", "kind": "pow2", "low": 3, "high": 8}]},
            "bounds must be powers of two, got 3",
        ),
        (
            {
                "parameters": [{"name": "a", "kind": "int", "low": 1, "high": 4}],
                "constraints": ["b < 2"],
            },
            "unknown name in expression 'b'",
        ),
        (
            {
                "parameters": [{"name": "a", "kind": "int", "low": 1, "high": 4}],
                "constraints": ["__import__('os')"],
            },
            "only the functions",
        ),
        (
            {"parameters": [{"name": "a", "kind": "int", "low": 1, "high": 4, "default": 9}]},
            "parameters[0].default",
        ),
    ],
)
def test_space_spec_errors(data, message):
    with pytest.raises(SpecError) as err:
        DesignSpace.from_dict(data)
    assert message in str(err.value)


def test_expressions_evaluate_every_operator_elementwise():
    from archgym_py._expr import Expression

    x = np.array([0, 1, 2, 3, 4])
    cases = {
        "1 <= x < 3": [False, True, True, False, False],
        "not (x > 1) or x == 4": [True, True, False, False, True],
        "x % 2 == 0 and x != 0": [False, False, True, False, True],
        "max(x, 2) - min(x, 2) >= abs(-2)": [True, False, False, False, True],
        "log2(x + 1) * 2 ** 1 // 1 > 2": [False, False, True, True, True],  # 0, 2, 3.17, 4, 4.64
        "-x + 4 / 2 > 0": [True, True, False, False, False],
    }
    for text, expected in cases.items():
        assert Expression(text, {"x"})({"x": x}).tolist() == expected, text


def test_constraints_read_constants_and_hash_them():
    space = DesignSpace(
        [PowerOfTwo("dp", low=1, high=8), PowerOfTwo("tp", low=1, high=8)],
        constraints=["dp * tp == gpus", "hidden % tp == 0"],
        constants={"gpus": 8, "hidden": 12, "unused": 1},
    )
    grid = space.grid()
    assert sorted(zip(grid["dp"].tolist(), grid["tp"].tolist(), strict=True)) == [
        (2, 4),
        (4, 2),
        (8, 1),
    ]
    assert space.constants == {"gpus": 8, "hidden": 12}  # only what the constraints name
    assert space.hash() != space.with_constants({"gpus": 4, "hidden": 12}).hash()
    with pytest.raises(
        DesignError, match=r"'dp \* tp == gpus' with \{'dp': 1, 'tp': 1, 'gpus': 8\}"
    ):
        space.validate({"dp": 1, "tp": 1})
    again = DesignSpace.from_dict(space.to_dict())  # the constants travel with the space
    assert again.hash() == space.hash()
    with pytest.raises(SpecError, match="unknown name in expression 'gpus'"):
        DesignSpace([PowerOfTwo("dp", low=1, high=8)], constraints=["dp == gpus"])


@pytest.mark.parametrize(
    "kind, action, message",
    [
        ("box", [1.5] * 5, r"a box action has 5 values in \[0, 1\]"),
        ("box", [1e30] * 5, r"a box action has 5 values in \[0, 1\]"),
        ("box", ["a"] * 5, "a box action holds 5 numbers"),
        ("dict", "all-1.9", "dict action index of 'pe_rows' is 1.9; expected an integer"),
        ("dict", "all-x", "dict action index of 'pe_rows' is 'x'; expected an integer"),
        ("dict", "one-key", r"a dict action gives every parameter; \['pe_cols'"),
    ],
)
def test_out_of_space_actions_are_refused_not_clipped(kind, action, message):
    # Issue 15: box actions of 1.5 or 1e30 were clipped and dict indices of 1.9 truncated silently.
    import gymnasium as gym

    import archgym_py  # noqa: F401

    env = gym.make("archgym/AcceleratorSmall-v0", action_type=kind).unwrapped
    env.reset(seed=0)
    names = env.space.names
    if kind == "dict":
        action = {"all-1.9": {n: 1.9 for n in names}, "all-x": {n: "x" for n in names},
                  "one-key": {names[0]: 0}}[action]  # fmt: skip
    with pytest.raises(DesignError, match=message):
        env.step(action if kind == "dict" else np.array(action))
