"""One guard for every number a command takes: finite, and of a size the solvers survive.

Typer turns ``--alpha nan`` or ``--time 1e308`` into a float without complaint; deep inside a
solver that becomes a math domain error, an overflow or a run that never ends. Every run,
compile, sweep, compare and bench command's callback is wrapped so that, before any work or
store write, every number passes :func:`qcompile.resources.check_number` (finite, |x| ≤ 1e6,
integers in 64 bits) unless it is the option's own default (``omega_c = inf``, the Lindblad
limit); each protocol's own range checks follow.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import typer

from qcompile.resources import check_number

__all__ = ["guard_numbers"]


def _is_default(value: Any, default: Any) -> bool:
    """A float equal to the option's default (which may be written as text, ``"inf"``)."""
    if not isinstance(value, float) or isinstance(default, bool) or default is None:
        return False
    try:
        return value == float(default)
    except (TypeError, ValueError):
        return False


def _flag_names(callback: Callable) -> dict[str, str]:
    """Each parameter spelled as its command-line flag where that differs from the Python
    name (``coupling`` is ``--J``), without the dashes, for :class:`InvalidParameter`."""
    names = {}
    for name, p in inspect.signature(callback, eval_str=True).parameters.items():
        for info in getattr(p.annotation, "__metadata__", ()):
            decls = list(getattr(info, "param_decls", ()) or ())
            if isinstance(getattr(info, "default", None), str) and info.default.startswith("--"):
                decls.insert(0, info.default)  # typer takes a first "--flag" as a declaration
            flags = [d.split("/")[0] for d in decls if d.startswith("--")]
            if flags and flags[0][2:].replace("-", "_") != name:
                names[name] = flags[0][2:]
    return names


def _guarded(callback: Callable) -> Callable:
    defaults = {
        name: p.default
        for name, p in inspect.signature(callback).parameters.items()
        if p.default is not inspect.Parameter.empty
    }
    flags = _flag_names(callback)

    @functools.wraps(callback)  # typer reads the signature through __wrapped__
    def command(*args: Any, **kwargs: Any) -> Any:
        for name, value in kwargs.items():
            if not _is_default(value, defaults.get(name)):  # e.g. omega_c = inf
                check_number(flags.get(name, name), value)
        return callback(*args, **kwargs)

    command.__qcompile_guarded__ = True
    return command


def guard_numbers(app: typer.Typer, *, skip: tuple[str, ...] = ()) -> None:
    """Wrap the callbacks of ``app``'s commands and of its sub-apps (except those named in
    ``skip``) once."""
    for info in app.registered_commands:
        if info.callback is not None and not getattr(info.callback, "__qcompile_guarded__", 0):
            info.callback = _guarded(info.callback)
    for group in app.registered_groups:
        if group.name not in skip and group.typer_instance is not None:
            guard_numbers(group.typer_instance, skip=skip)
