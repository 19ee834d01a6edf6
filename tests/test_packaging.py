"""environment.yml (conda) and pyproject.toml (pip) name the same dependencies with the same bounds."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent

# PyPI name -> conda-forge name, where they differ (none today; add here when one does).
CONDA_NAMES: dict[str, str] = {}


def split(requirement: str) -> tuple[str, str]:
    """``"pandas>=2.2"`` -> ``("pandas", ">=2.2")``; names compared in PEP 503 normal form."""
    match = re.match(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*(?:\[[^\]]*\])?\s*(.*?)\s*(?:#.*)?$", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(1)).lower(), match.group(2).replace(" ", "")


def test_environment_yml_names_the_same_dependencies_as_pyproject() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    pip = dict(split(r) for r in pyproject["project"]["dependencies"])
    wanted = {CONDA_NAMES.get(name, name): spec for name, spec in pip.items()}
    env = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    assert env["channels"] == ["conda-forge"]
    conda = dict(split(d) for d in env["dependencies"] if isinstance(d, str))
    python = conda.pop("python")
    conda.pop("pip")
    assert python == ">=" + pyproject["project"]["requires-python"].removeprefix(">=")
    missing = {n: s for n, s in wanted.items() if n not in conda}
    extra = {n: s for n, s in conda.items() if n not in wanted}
    assert not missing, f"in pyproject.toml but not in environment.yml: {missing}"
    assert not extra, f"in environment.yml but not in pyproject.toml: {extra}"
    differ = {n: (wanted[n], conda[n]) for n in wanted if wanted[n] != conda[n]}
    assert not differ, f"bounds differ (pyproject, environment.yml): {differ}"
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    assert pip_section[0] == "-e ."
    # After the package itself only test extras that conda-forge lacks, with pyproject's bounds.
    test_extras = dict(split(r) for r in pyproject["project"]["optional-dependencies"]["test"])
    for requirement in pip_section[1:]:
        name, spec = split(requirement)
        assert test_extras.get(name) == spec, f"{requirement} is not a test extra of pyproject.toml"
