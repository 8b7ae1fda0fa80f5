"""How the built-in protocols print their results: rich tables and lines, one module per
protocol (the plugin interface's ``render(results, console)``, :mod:`qcompile.protocols.plugin`).
They read only a run's :class:`~qcompile.results.RunResult`, never the run layer."""

from __future__ import annotations

__all__ = ["fmt"]


def fmt(value, digits: int = 6) -> str:
    """A number at ``digits`` decimals, or an em dash where there is none."""
    return "—" if value is None else f"{value:.{digits}f}"
