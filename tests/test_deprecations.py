"""Deprecated names keep working until the release that removes them, and say so.

The old module names (``qcompile.aliases.MOVED``) and the entry points of the alias modules in
``qcompile/run`` warn through :func:`qcompile.deprecation.warn_deprecated`, naming their
replacement and :data:`~qcompile.deprecation.REMOVED_IN`; CHANGELOG.md lists each. Once
qcompile's version reaches that release, the version test fails: remove them then.
"""

from __future__ import annotations

import ast
import importlib
import sys
from pathlib import Path

import pytest
from packaging.version import Version

import qcompile
from qcompile.aliases import MOVED
from qcompile.deprecation import DEPRECATED_IN, REMOVED_IN, warn_deprecated

ROOT = Path(__file__).resolve().parent.parent
#: The alias modules of ``qcompile/run`` and their deprecated entry points.
ALIAS_MODULES = {
    "qcompile.run.experiment": ["run_experiment", "check_experiment"],
    "qcompile.run.encodings": ["run_encodings"],
    "qcompile.run.bosonic": ["run_gkp", "run_cat"],
    "qcompile.run.ising_memory": ["run_ising_memory"],
    "qcompile.run.open_system": ["run_open_system", "run_dynamics"],
    "qcompile.run.oscillator_circuits": ["run_gkp_circuits", "run_cat_circuits"],
    "qcompile.run.photonic_toy": ["run_photonic_toy"],
}


def test_the_aliases_are_removed_in_their_release():
    assert Version(DEPRECATED_IN) <= Version(qcompile.__version__) < Version(REMOVED_IN), (
        f"qcompile {qcompile.__version__} has reached {REMOVED_IN}: remove the deprecated "
        "names CHANGELOG.md lists (qcompile.aliases, the alias modules of qcompile/run)"
    )


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_module_name_warns_and_is_the_same_module(old, monkeypatch):
    monkeypatch.delitem(sys.modules, old, raising=False)  # imported before: import it anew
    with pytest.warns(DeprecationWarning, match=f"{old}.*removed in {REMOVED_IN}.*{MOVED[old]}"):
        module = importlib.import_module(old)
    assert module is importlib.import_module(MOVED[old])


@pytest.mark.parametrize("module", sorted(ALIAS_MODULES))
def test_every_deprecated_entry_point_warns_with_its_release(module):
    """Read from the source: each entry point (or the helper it calls) warns through
    ``warn_deprecated`` — no undated ``warnings.warn`` is left — and still imports."""
    imported = importlib.import_module(module)
    path = ROOT / (module.replace(".", "/") + ".py")
    tree = ast.parse(path.read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    names = {getattr(c.func, "id", getattr(c.func, "attr", None)) for c in calls}
    assert "warn_deprecated" in names
    assert not any(getattr(c.func, "attr", None) == "warn" for c in calls)
    for name in ALIAS_MODULES[module]:
        assert callable(getattr(imported, name))


def test_the_warning_names_the_replacement_and_both_releases():
    with pytest.warns(DeprecationWarning) as caught:
        warn_deprecated("old_name", "new_name")
    message = str(caught[0].message)
    assert message == (f"old_name is deprecated since qcompile {DEPRECATED_IN} and will be "
                       f"removed in {REMOVED_IN}: use new_name")  # fmt: skip


def test_the_changelog_lists_every_deprecated_name_with_its_release():
    text = (ROOT / "CHANGELOG.md").read_text()
    section = text.split("### Deprecated", 1)[1].split("\n## ", 1)[0]
    assert f"removed in {REMOVED_IN}" in section
    for old in MOVED:
        assert f"`{old}`" in section, old
    for module, entries in ALIAS_MODULES.items():
        assert f"`{module}`" in section, module
        for name in entries:
            assert f"`{name}`" in section, name
