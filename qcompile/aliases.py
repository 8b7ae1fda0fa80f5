"""Old import names kept working after the layout moved: a finder placed *last* on
``sys.meta_path`` (so a module of that name anywhere else is always found first).

* ``qcompile.<old>`` → its new home (``qcompile.experiment`` → ``qcompile.run.experiment``):
  the very same module object, so monkeypatching and ``isinstance`` behave as before
  (deprecated: each warns once, naming the release that removes it —
  :mod:`qcompile.deprecation`);
* ``backends`` / ``backends.*`` → ``qcompile.backends`` (deprecated): the repository's
  ``backends/`` folder is installed under ``qcompile`` — a bare top-level ``backends`` would
  be shadowed by, or shadow, a ``backends.py`` beside a user's script. This one works once
  ``qcompile`` is imported.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from types import ModuleType

from qcompile.deprecation import warn_deprecated

__all__ = ["MOVED", "install"]

#: Old module name → where it lives now.
MOVED = {
    "qcompile.qubit_state": "qcompile.states.qubit_state",
    "qcompile.circuit_states": "qcompile.states.circuit_states",
    "qcompile.oscillator_basis": "qcompile.states.oscillator_basis",
    "qcompile.experiment": "qcompile.run.experiment",
    "qcompile.dynamics_experiment": "qcompile.run.open_system",
    "qcompile.run.dynamics": "qcompile.run.open_system",
    "qcompile.encoding_experiment": "qcompile.run.encodings",
    "qcompile.ising_experiment": "qcompile.run.ising_memory",
    "qcompile.toy_experiment": "qcompile.run.photonic_toy",
    "qcompile.bosonic_experiment": "qcompile.run.bosonic",
    "qcompile.oscillator_experiment": "qcompile.run.oscillator_circuits",
    "qcompile.run.recoverability": "qcompile.protocols.homogenization_recoverability",
    "qcompile.recipe": "qcompile.run.recipe",
    "qcompile.tomography": "qcompile.states.tomography",
    "qcompile.compile": "qcompile.passes.compile",
    "qcompile.targets": "qcompile.passes.targets",
    "qcompile.sweep": "qcompile.app.sweep",
    "qcompile.jobs": "qcompile.app.jobs",
    "qcompile.compare": "qcompile.app.compare",
    "qcompile.plots": "qcompile.app.plots",
    "qcompile.benchmark_suite": "qcompile.app.benchmark_suite",
    "qcompile.backends_alias": "qcompile.aliases",
}
_BARE = "backends"


def _target(fullname: str) -> str | None:
    if fullname in MOVED:
        return MOVED[fullname]
    if fullname == _BARE or fullname.startswith(_BARE + "."):
        return "qcompile." + fullname
    return None


class _AliasFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds an old name and loads it as the module at its new name."""

    def __init__(self) -> None:
        self._specs: dict[str, object] = {}

    def find_spec(self, fullname, path=None, target=None):  # noqa: D102 - finder protocol
        new = _target(fullname)
        if new is None or importlib.util.find_spec(new) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self, is_package=fullname == _BARE)

    def create_module(self, spec) -> ModuleType:  # noqa: D102 - loader protocol
        if spec.name in MOVED or spec.name == _BARE:  # (``backends.x``: its package warned)
            warn_deprecated(f"the module name {spec.name!r}", repr(_target(spec.name)))
        real = importlib.import_module(_target(spec.name))
        self._specs[spec.name] = real.__spec__
        return real

    def exec_module(self, module: ModuleType) -> None:  # noqa: D102 - loader protocol
        # the import system stamped the alias spec on the real module: give it back its own
        module.__spec__ = self._specs.pop(module.__spec__.name, module.__spec__)


def install() -> None:
    """Append the alias finder to ``sys.meta_path`` once."""
    if not any(isinstance(f, _AliasFinder) for f in sys.meta_path):
        sys.meta_path.append(_AliasFinder())
