"""A plain ``pip install .`` is complete: every third-party module the package imports is a
declared dependency, or belongs to an extra whose absence is one line naming that extra.

The import graph is read from the source (``ast``), so an import hidden inside a function
counts as much as one at the top of a module.
"""

from __future__ import annotations

import ast
import re
import sys
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parent.parent
#: the installed package: qcompile/ and the backends/ folder installed as qcompile.backends
SOURCES = [ROOT / "qcompile", ROOT / "backends"]
#: imports allowed only from an extra: the extra, and the module whose one-line refusal names it
OPTIONAL = {"dask": ("dask", "qcompile/app/sweep.py"), "pytket": ("bench", "qcompile/cli/bench.py")}


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]

    def names(requirements):
        return {_normalize(re.match(r"[A-Za-z0-9_.-]+", r).group(0)) for r in requirements}

    extras = {k: names(v) for k, v in project.get("optional-dependencies", {}).items()}
    return names(project["dependencies"]), extras


def _modules() -> list[Path]:
    files = []
    for source in SOURCES:
        files += [
            p
            for p in source.rglob("*.py")
            if "backends" not in p.relative_to(ROOT).parts or source.name == "backends"
        ]
    return sorted(set(files))


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level module name -> the files importing it (stdlib and qcompile excluded)."""
    found: dict[str, set[str]] = {}
    for path in _modules():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("qcompile", "backends"):
                    continue
                found.setdefault(top, set()).add(path.relative_to(ROOT).as_posix())
    return found


def _distributions(module: str) -> set[str]:
    mapped = packages_distributions().get(module)
    return {_normalize(d) for d in mapped} if mapped else {_normalize(module)}


def test_the_walk_sees_the_package():
    """The walk covers the modules the wheel installs (a guard against walking nothing)."""
    files = {p.relative_to(ROOT).as_posix() for p in _modules()}
    assert "qcompile/cli/__init__.py" in files and "backends/aer.py" in files
    imports = _third_party_imports()
    assert {"qiskit", "numpy", "typer", "qutip"} <= set(imports)


def test_every_import_is_declared():
    dependencies, extras = _declared()
    missing = {}
    for module, files in _third_party_imports().items():
        if module in OPTIONAL:
            continue
        if not _distributions(module) & dependencies:
            missing[module] = sorted(files)
    assert not missing, (
        "imported by the package but not in [project] dependencies (a plain `pip install .` "
        f"would crash): {missing}"
    )


@pytest.mark.parametrize("module", sorted(OPTIONAL))
def test_optional_imports_belong_to_an_extra_that_is_named(module):
    """An optional import is in its extra, and the code that imports it names that extra
    (what the user sees when it is missing)."""
    _, extras = _declared()
    extra, refusal = OPTIONAL[module]
    assert _distributions(module) & extras[extra], f"{module} is not in the {extra!r} extra"
    assert f"'qcompile[{extra}]'" in (ROOT / refusal).read_text()


def test_click_is_not_imported():
    """Typer (>= 0.22) vendors click and no longer installs it: importing ``click`` crashes a
    plain install's first command (issue 32)."""
    assert "click" not in _third_party_imports()
