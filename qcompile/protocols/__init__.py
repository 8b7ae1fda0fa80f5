"""Protocols: one module per seed paper, each validating physical parameters into a model.

``PROTOCOLS`` maps the CLI name of every protocol to its module; a module exposes ``NAME``,
``SUMMARY``, ``PARAMETERS`` and a ``from_mapping`` builder.
"""

from __future__ import annotations

from types import ModuleType

from qcompile.errors import InvalidParameter
from qcompile.protocols import homogenization as homogenization_module
from qcompile.protocols.homogenization import Homogenization, homogenization

__all__ = ["PROTOCOLS", "get_protocol", "homogenization", "Homogenization"]

PROTOCOLS: dict[str, ModuleType] = {
    homogenization_module.NAME: homogenization_module,
}


def get_protocol(name: str) -> ModuleType:
    """The protocol module registered under ``name``."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise InvalidParameter("protocol", name, "one of " + ", ".join(sorted(PROTOCOLS))) from None
