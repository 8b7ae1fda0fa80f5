"""The old import name ``backends`` as a deprecated alias of :mod:`qcompile.backends`.

The repository's ``backends/`` folder is installed as ``qcompile.backends`` (a bare top-level
``backends`` would be shadowed by, or shadow, any ``backends.py`` beside a user's script).
Scripts written for the old name keep working once ``qcompile`` is imported: this finder sits
*last* on ``sys.meta_path``, so a user's own ``backends`` module is always found first.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings
from types import ModuleType

__all__ = ["install"]

_ALIAS = "backends"
_TARGET = "qcompile.backends"


class _BackendsAlias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Finds ``backends`` and ``backends.*`` as views of the ``qcompile.backends`` modules."""

    def find_spec(self, fullname, path=None, target=None):  # noqa: D102 - finder protocol
        if fullname != _ALIAS and not fullname.startswith(_ALIAS + "."):
            return None
        real = _TARGET + fullname[len(_ALIAS) :]
        if importlib.util.find_spec(real) is None:
            return None
        return importlib.util.spec_from_loader(fullname, self, is_package=True)

    def create_module(self, spec) -> ModuleType | None:  # noqa: D102 - loader protocol
        return None

    def exec_module(self, module: ModuleType) -> None:  # noqa: D102 - loader protocol
        if module.__name__ == _ALIAS:
            warnings.warn(
                "'import backends' is deprecated; use 'qcompile.backends'",
                DeprecationWarning,
                stacklevel=2,
            )
        real = importlib.import_module(_TARGET + module.__name__[len(_ALIAS) :])
        for key, value in vars(real).items():
            if key not in {"__name__", "__spec__", "__loader__", "__path__", "__package__"}:
                setattr(module, key, value)
        module.__path__ = []  # submodules come through this finder too


def install() -> None:
    """Append the alias finder to ``sys.meta_path`` once."""
    if not any(isinstance(f, _BackendsAlias) for f in sys.meta_path):
        sys.meta_path.append(_BackendsAlias())
