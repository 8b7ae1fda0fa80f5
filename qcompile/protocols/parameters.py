"""How a protocol declares its parameters, for ``qcompile protocols``, JSON and messages."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Parameter"]


@dataclass(frozen=True)
class Parameter:
    """One physical parameter: its name, kind, default (``None``: none) and allowed range,
    with optional help text, unit and the spec section it comes from."""

    name: str
    kind: str
    default: object
    allowed: str
    help: str = ""
    unit: str = ""
    spec: str = ""
