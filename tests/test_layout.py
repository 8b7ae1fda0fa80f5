"""The layout shows the layers: no module imports a layer above its own, modules stay small,
and every old module name still imports as the very same module."""

from __future__ import annotations

import ast
import importlib
import importlib.util
from pathlib import Path

import pytest

from qcompile.aliases import MOVED

PACKAGE = Path(__file__).resolve().parent.parent / "qcompile"
#: Who may import whom: a module imports only its own layer or lower ones.
RANK = {"core": 0, "lowering": 1, "passes": 2, "protocols": 3, "backends": 4, "run": 5,
        "app": 6, "cli": 7}  # fmt: skip
CORE = {"errors", "model", "results", "metrics", "resources", "aliases", "deprecation", "states",
        "channels"}  # fmt: skip
MAX_LINES = 500


def _layer(module: str) -> str | None:
    parts = module.split(".")
    if parts[0] != "qcompile":
        return None
    if len(parts) == 1 or parts[1] in CORE:
        return "core"
    if parts[1] == "__main__":  # `python -m qcompile`: the command line
        return "cli"
    return parts[1] if parts[1] in RANK else None


def _modules():
    """(path, module name) of every module: the package, and the repository's backends/
    folder, installed as qcompile.backends."""
    folders = [(PACKAGE, "qcompile"), (PACKAGE.parent / "backends", "qcompile.backends")]
    for root, name in folders:
        for path in sorted(root.rglob("*.py")):
            if "backends" in path.relative_to(root).parts:
                continue  # the qcompile/backends link: read once, from its folder
            parts = path.relative_to(root).with_suffix("").parts
            module = ".".join((name, *parts)).removesuffix(".__init__")
            yield path, module


def _imports(tree: ast.AST):
    """(module imported, enclosing function name or None) for every qcompile import."""

    def visit(node, function):
        for child in ast.iter_child_nodes(node):
            name = (
                child.name if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)) else None
            )
            if isinstance(child, ast.ImportFrom) and child.module:
                yield child.module, function
            elif isinstance(child, ast.Import):
                for alias in child.names:
                    yield alias.name, function
            yield from visit(child, name or function)

    yield from visit(tree, None)


def test_no_module_imports_a_higher_layer():
    """Data flows one way. The one sanctioned crossing: a protocol plugin's ``run`` function
    (its entry into the run layer, :mod:`qcompile.protocols.plugin`) imports its runner — and
    ``DataFlowPlugin.check``, the same runner's checks without the run."""
    violations = []
    for path, module in _modules():
        if module == "qcompile":  # the package facade re-exports the public API
            continue
        source = _layer(module)
        for imported, function in _imports(ast.parse(path.read_text())):
            target = _layer(imported)
            if target is None or RANK[target] <= RANK[source]:
                continue
            if source == "protocols" and target == "run" and function in ("run", "check"):
                continue
            violations.append(f"{module} ({source}) imports {imported} ({target})")
    assert violations == []


def test_modules_stay_small():
    long = {module: n for path, module in _modules()
            if (n := len(path.read_text().splitlines())) > MAX_LINES}  # fmt: skip
    assert long == {}


@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # (tests/test_deprecations.py)
@pytest.mark.parametrize("old", sorted(MOVED))
def test_old_module_names_are_the_same_modules(old):
    assert importlib.import_module(old) is importlib.import_module(MOVED[old])
    assert importlib.import_module(MOVED[old]).__spec__.name == MOVED[old]


def test_the_tree_is_ruff_clean():
    """``ruff check .`` and ``ruff format --check`` as CONTRIBUTING.md prints them: the real
    ``backends/`` directory included (``qcompile/backends`` is a symlink to it, which a
    ``ruff check qcompile`` silently skips)."""
    import shutil
    import subprocess
    import sys

    if shutil.which("ruff") is None and importlib.util.find_spec("ruff") is None:
        pytest.skip("ruff is not installed (the test extra has it)")
    root = PACKAGE.parent
    for args in (["check", "."], ["format", "--check", "qcompile", "backends", "tests"]):
        done = subprocess.run([sys.executable, "-m", "ruff", *args], cwd=root,
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, f"ruff {' '.join(args)}:\n{done.stdout[-3000:]}"


#: The import cycles left (imports inside functions count), each a strongly connected set of
#: modules. Issue 34 removes them: a new one fails this test, a removed one must leave here.
KNOWN_CYCLES = {
    frozenset({"qcompile.protocols.plugin", "qcompile.run.pipeline",
               "qcompile.run.state_pipeline", "qcompile.run.bloch_pipeline"}),
    frozenset({"qcompile.protocols.gkp", "qcompile.protocols.rendering.figures"}),
    frozenset({"qcompile.protocols.ising_memory", "qcompile.protocols.rendering.ising_memory"}),
    frozenset({"qcompile.protocols.coherent_feedback",
               "qcompile.protocols.rendering.coherent_feedback"}),
    frozenset({"qcompile.protocols.dissipative_qubits",
               "qcompile.protocols.rendering.dissipative_qubits"}),
}  # fmt: skip


def _import_graph():
    import networkx as nx

    modules = dict((module, path) for path, module in _modules())
    graph = nx.DiGraph()
    for module, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                names = [f"{node.module}.{a.name}" for a in node.names]
                found = [n for n in names if n in modules] or [node.module]
            elif isinstance(node, ast.Import):
                found = [a.name for a in node.names]
            else:
                continue
            for name in found:
                while name and name not in modules:
                    name = name.rpartition(".")[0]
                if name and name != module:
                    graph.add_edge(module, name)
    return graph


def test_no_new_import_cycles():
    """Strongly connected sets of modules in the import graph (imports inside functions
    included): only the known ones, and each known one still there (else: drop it above)."""
    import networkx as nx

    cycles = {frozenset(c) for c in nx.strongly_connected_components(_import_graph()) if len(c) > 1}
    assert cycles <= KNOWN_CYCLES, (
        f"new import cycles: {[sorted(c) for c in cycles - KNOWN_CYCLES]}"
    )
    assert cycles == KNOWN_CYCLES, f"gone, remove from KNOWN_CYCLES: {KNOWN_CYCLES - cycles}"
