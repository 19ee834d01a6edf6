"""The architecture rule: the domain core (agreement, ingestion, storage, follow-up, report, …) has no UI
imports; the UI layer (``samordning.ui``: charts, the report's HTML/PDF writer, the dashboard) sits on top.

``cli/`` is a front end like the dashboard: it may import the UI inside a command (``serve``, a report as
HTML or PDF), never when the module is imported, so that ``samordning --help`` and the plain commands stay
light.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import samordning

PACKAGE = Path(samordning.__file__).resolve().parent
UI_PACKAGES = ("plotly", "ipywidgets", "anywidget", "voila", "samordning.ui")
# Front ends: allowed to import the UI, but only inside functions (checked at run time below).
FRONT_ENDS = {"cli"}


def domain_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if p.relative_to(PACKAGE).parts[0] not in {"ui", *FRONT_ENDS})


def is_ui(name: str) -> bool:
    return any(name == u or name.startswith(u + ".") for u in UI_PACKAGES)


def imported_names(path: Path) -> list[tuple[int, str]]:
    """Every module an ``import`` anywhere in the file names (at module level or inside a function), with
    relative imports resolved against the file's package."""
    here = ("samordning", *path.relative_to(PACKAGE).parent.parts)  # the package the file is in
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = here[:len(here) - (node.level - 1)]
                base = ".".join([*parent, *([base] if base else [])])
            # ``from samordning import ui`` names the module samordning.ui.
            found += [(node.lineno, base)] + [(node.lineno, f"{base}.{alias.name}") for alias in node.names]
    return found


def test_no_domain_module_imports_the_ui() -> None:
    files = domain_files()
    assert PACKAGE / "report" / "__init__.py" in files and PACKAGE / "money.py" in files
    offending = [f"{p.relative_to(PACKAGE.parent)}:{line}: {name}"
                 for p in files for line, name in imported_names(p) if is_ui(name)]
    assert not offending, "the domain core imports the UI layer:\n" + "\n".join(sorted(set(offending)))


def test_importing_the_domain_and_the_cli_loads_no_ui() -> None:
    # A fresh interpreter, so that nothing another test imported counts; catches imports through third parties.
    modules = sorted({".".join(("samordning", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
                      for p in domain_files() if p.relative_to(PACKAGE).parts[0] != "migrations"}
                     | {"samordning.cli"})
    code = (f"import importlib, json, sys\nfor m in {modules!r}:\n    importlib.import_module(m)\n"
            "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = [m for m in json.loads(done.stdout) if is_ui(m)]
    assert "samordning.report.excel" in modules and "samordning.cli" in modules
    assert not loaded, f"importing {', '.join(modules)} loads the UI: {', '.join(loaded)}"
