"""Command-line options from a protocol's declared parameters (``Parameter``).

Each declared parameter becomes a Typer option of its kind (``float``, ``int``, ``str``,
``bool``, ``path``, ``list`` — repeatable —; anything else is read as text) with its default
and allowed range in the help. ``flags`` replaces the default ``--name``; a ``listable``
parameter takes text, a number or a comma list of numbers, one run per value (read by
:func:`list_values`). A parameter whose name a command already uses for its own option
(``target``) is spelled ``--protocol-<name>``.
"""

from __future__ import annotations

import inspect
from pathlib import Path
from typing import Annotated, Any

import typer

from qcompile.cli.common import _float_list
from qcompile.errors import InvalidParameter

__all__ = ["PREFIX", "declared_options", "list_values", "option", "protocol_values"]

PREFIX = "protocol_"
_KINDS: dict[str, type] = {"float": float, "int": int, "str": str, "bool": bool, "path": Path}


def option(name: str, annotation: Any, default: Any) -> inspect.Parameter:
    """A keyword-only parameter of a generated command's signature."""
    return inspect.Parameter(
        name, inspect.Parameter.KEYWORD_ONLY, default=default, annotation=annotation
    )


def _annotation(p, name: str, lists: bool) -> tuple[Any, Any]:
    """The option's annotation and default for declared parameter ``p``."""
    unit = f" [{p.unit}]" if p.unit else ""
    text = f"{p.help + '. ' if p.help else ''}Allowed: {p.allowed}{unit}"
    default = p.default if isinstance(p.default, (int, float, str, bool)) else None
    flags = list(p.flags) or ["--" + name.replace("_", "-")]
    if p.kind == "list":
        if isinstance(default, str):
            text += f" (default {default})"
        return Annotated[list[str] | None, typer.Option(*flags, help=text)], None
    if p.listable and lists:
        text += "; a comma list runs one point per value"
        default = None if default is None else f"{default:g}" if isinstance(default, float) \
            else str(default)  # fmt: skip
        return Annotated[str | None, typer.Option(*flags, help=text)], default
    kind = _KINDS.get(p.kind, str)
    if kind is bool and not p.flags:
        flags = [flags[0]] if default is False else [f"{flags[0]}/--no-{flags[0][2:]}"]
        return Annotated[bool, typer.Option(*flags, help=text)], bool(default)
    return Annotated[kind | None, typer.Option(*flags, help=text)], default


def declared_options(
    parameters, reserved: tuple[str, ...] = (), *, lists: bool = True
) -> list[inspect.Parameter]:
    """One option per declared parameter (see the module docstring); ``lists=False``: a
    ``listable`` parameter takes one value of its kind (a command that compiles one point)."""
    options = []
    for p in parameters:
        name = PREFIX + p.name if p.name in reserved else p.name
        annotation, default = _annotation(p, name, lists)
        options.append(option(name, annotation, default))
    return options


def protocol_values(
    kwargs: dict[str, Any], parameters, reserved: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The given values of ``parameters`` among a command's arguments, under their own names
    (one spelled ``--protocol-<name>`` because the command has its own ``name`` included)."""
    values = {}
    for p in parameters:
        value = kwargs.get(PREFIX + p.name if p.name in reserved else p.name)
        if value is not None:
            values[p.name] = value
    return values


def list_values(p, text: str) -> list[Any]:
    """A ``listable`` parameter's values: a number or a comma list of numbers (finite and
    sized, :func:`qcompile.resources.check_number`); integral values of an ``int`` parameter
    as ``int``; text of a non-numeric parameter split at commas."""
    if p.kind not in ("float", "int"):
        values = [v.strip() for v in str(text).split(",") if v.strip()]
        if not values:
            raise InvalidParameter(p.name, text, "a value or a comma-separated list")
        return values
    values = _float_list(p.name, str(text))
    if p.kind == "int":
        return [int(v) if float(v).is_integer() else v for v in values]
    return values
