"""Best-known designs of envs too large to enumerate (``arch_specs/<family>/best_known.yaml``).

A sweep scores its runs on such an env against the better of the recorded design (re-evaluated
with the simulator the sweep runs) and its own best run, rather than against its best run alone,
which made "1" mean something different in every sweep. ``python benchmarks/best_known.py
--write`` records them from long reference searches.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .._errors import SpecError
from .._spec import check_keys, check_spec_version, load_yaml

_ENTRY = {"env", "arch", "workload", "objective", "design", "reward_when_found", "search"}


def best_known_entries(folder: Path) -> list[dict[str, Any]]:
    """The validated entries of ``folder/best_known.yaml`` (none when the file is absent)."""
    path = folder / "best_known.yaml"
    if not path.exists():
        return []
    data = load_yaml(path)
    check_spec_version(data, str(path))
    check_keys(data, required={"spec_version", "entries"}, path=str(path))
    if not isinstance(data["entries"], list):
        raise SpecError(f"{path}.entries: expected a list of best-known designs")
    for i, entry in enumerate(data["entries"]):
        check_keys(entry, required=_ENTRY, path=f"{path}.entries[{i}]")
    return data["entries"]


def best_known(core) -> tuple[float, dict[str, Any], str] | None:
    """``(reward, design, search)`` of the recorded design for ``core``'s env, base architecture,
    workload and objective, re-evaluated now; None when none is recorded or it is not feasible."""
    for entry in best_known_entries(Path(core.spec.path).parent):
        key = (entry["env"], entry["arch"], entry["workload"], entry["objective"])
        if key != (core.spec.id, core.arch.name, core.workload.name, core.objective.name):
            continue
        design = core.space.validate(entry["design"])
        _, reward, feasible, _ = core.evaluate(core.space.batch([design]))
        if bool(feasible[0]):
            return float(reward[0]), design, str(entry["search"])
    return None
