"""Plots of run results (matplotlib): device with error bars, ideal, reference.

A protocol draws its own figure where its plugin has one (``figure(result)``, and
``sweep_figure(results)`` for several points; the built-ins' are in
:mod:`qcompile.protocols.rendering.figures`); any other run (a user's ``lindblad`` model, the
cat's rates, a third party's protocol) gets :func:`comparison_figure`: every observable of
its comparison. Also the benchmark's figure.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from qcompile.errors import QCompileError
from qcompile.protocols.rendering.figures import gkp_figure, ising_figure
from qcompile.results import RunResult, write_atomic

__all__ = [
    "bench_figure",
    "FIGURES",
    "comparison_figure",
    "gkp_figure",
    "ising_figure",
    "plot_result",
    "save_figure",
    "save_plot",
    "save_plots",
]


def _plugin(name: str):
    """The registered plugin of protocol ``name`` (``None``: not installed here)."""
    from qcompile.protocols.plugin import protocol_plugins

    try:
        return protocol_plugins().get(name)
    except QCompileError:
        return None


def plot_result(result: RunResult):
    """A matplotlib ``Figure`` of ``result``: its protocol's own (the plugin's ``figure``)
    where it has one, else :func:`comparison_figure`, which draws any run."""
    figure = getattr(_plugin(result.protocol), "figure", None)
    return comparison_figure(result) if figure is None else figure(result)


def comparison_figure(result: RunResult):
    """Any run: one panel per observable of :func:`qcompile.app.compare.compare_run` — reference
    line, ideal-circuit markers, device points with standard errors (a time axis where the
    run has one, else the points of the run side by side)."""
    from qcompile.app.compare import compare_run

    blocks = compare_run(result)["observables"]
    if not blocks:
        raise ValueError(f"run of {result.protocol!r} reports no observable to plot")
    columns = min(3, len(blocks))
    rows = -(-len(blocks) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(4.6 * columns, 3.6 * rows), squeeze=False)
    for ax, (name, block) in zip(axes.flat, blocks.items(), strict=False):
        axis = block["axis"]
        x = [r[axis] for r in block["rows"]]
        scalar = len(x) == 1
        for key, style, label in (("reference", "k--", "reference"),
                                  ("ideal", "o", "ideal circuit")):  # fmt: skip
            points = [(xi, r[key]) for xi, r in zip(x, block["rows"], strict=True)
                      if r[key] is not None]  # fmt: skip
            if points:
                xs, ys = zip(*points, strict=True)
                fmt = "k_" if scalar and key == "reference" else style
                ax.plot(xs, ys, fmt, ms=14 if scalar else 5, mfc="none", label=label)
        measured = [r for r in block["rows"] if r["device"] is not None]
        if measured and (result.shots or not result.ideal):  # shots, or a solver's answer
            ax.errorbar(
                [r[axis] for r in measured],
                [r["device"] for r in measured],
                yerr=[r["stderr"] or 0.0 for r in measured],
                fmt="s",
                ms=4,
                capsize=2,
                color="tab:red",
                label=f"observed on {result.backend}"
                + (f" ({result.shots} shots)" if result.shots else ""),
            )
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("t" if axis == "t" else axis)
        if scalar:
            ax.set_xticks([])
        ax.grid(alpha=0.3)
    for ax in list(axes.flat)[len(blocks) :]:
        ax.set_visible(False)
    axes.flat[0].legend(fontsize=8)
    title = result.parameters.get("title") or result.protocol
    fig.suptitle(f"{title} on {result.backend}: device vs ideal circuit vs reference")
    fig.tight_layout()
    return fig


def bench_figure(result: dict):
    """Two-qubit count relative to Qiskit O3, per circuit, one panel per target."""
    targets = result["targets"]
    compilers = [c for c in result["compilers"] if c != "qiskit_o3"]
    fig, axes = plt.subplots(len(targets), 1, figsize=(12, 2.6 * len(targets)), squeeze=False)
    for ax, target in zip(axes[:, 0], targets, strict=True):
        rows = [r for r in result["rows"] if r["target"] == target]
        x = np.arange(len(rows))
        width = 0.8 / len(compilers)
        for i, name in enumerate(compilers):
            ratios = [r[name].get("ratio_two_qubit_gates", np.nan) for r in rows]
            ax.bar(x + i * width, ratios, width, label=name)
        ax.axhline(1.0, color="k", lw=0.8)
        ax.set_ylabel("2q gates / O3")
        ax.set_title(target, fontsize=9)
        ax.set_xticks(
            x + 0.4 - width / 2, [r["circuit"] for r in rows], rotation=60, fontsize=6, ha="right"
        )
    axes[0, 0].legend(fontsize=7, ncol=len(compilers))
    fig.tight_layout()
    return fig


class _Figures(Mapping[str, Callable]):
    """Protocols whose runs have a figure of their own (their plugin's ``figure``), by name;
    every other run gets :func:`comparison_figure`."""

    def __getitem__(self, name: str) -> Callable:
        figure = getattr(_plugin(name), "figure", None)
        if figure is None:
            raise KeyError(name)
        return figure

    def __iter__(self) -> Iterator[str]:
        from qcompile.protocols.plugin import protocol_plugins

        return (n for n, p in protocol_plugins().items() if hasattr(p, "figure"))

    def __len__(self) -> int:
        return sum(1 for _ in self)


#: Every protocol's own figure, by name (a live view of the plugins' ``figure``).
FIGURES: Mapping[str, Callable] = _Figures()


def save_figure(fig, path: str | os.PathLike) -> Path:
    """Write a figure as PNG, atomically, and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    return write_atomic(path, buffer.getvalue())


def save_plot(result: RunResult, path: str | os.PathLike) -> Path:
    """Write the plot of ``result`` as PNG, atomically."""
    return save_figure(plot_result(result), path)


def save_plots(results: list[RunResult], path: str | os.PathLike) -> Path:
    """Write the plot of a run command's points as PNG, atomically: the plugin's
    ``sweep_figure`` of all of them where it has one (GKP: rate vs σ; Ising memory: success
    vs M), else the plot of the last point."""
    sweep = getattr(_plugin(results[-1].protocol), "sweep_figure", None)
    if sweep is None:
        return save_plot(results[-1], path)
    return save_figure(sweep(results), path)
