"""How a protocol describes its parameters, for ``qcompile protocols`` and validation messages."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Parameter"]


@dataclass(frozen=True)
class Parameter:
    """One physical parameter: its name, kind, default (``None``: none) and allowed range."""

    name: str
    kind: str
    default: object
    allowed: str
