"""Plots of run results (matplotlib): device with error bars, ideal, reference.

For homogenization (spec 000 §3): fidelity of the system qubit to ξ after k collisions, and
the final fidelity of each reservoir qubit R_j to ξ. For coherent feedback (spec 002): the
trace distance D(t) to the desired trajectory, on linear and logarithmic axes. Any other run
(a user's ``lindblad`` model, the bosonic rates): every observable of its comparison.
"""

from __future__ import annotations

import io
import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

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
    "SWEEP_FIGURES",
]


def _series(ax, x, result: RunResult, key: str) -> None:
    if result.reference.get(key) is not None:
        ax.plot(x, result.reference[key], "k--", lw=1.2, label="reference (exact map)")
    if result.ideal.get(key) is not None:
        ax.plot(x, result.ideal[key], "o", mfc="none", color="tab:blue", label="ideal circuit")
    if result.observables.get(key) is not None:
        err = result.observables.get(f"{key}_stderr")
        ax.errorbar(
            x,
            result.observables[key],
            yerr=err,
            fmt="s",
            ms=4,
            capsize=2,
            color="tab:red",
            label=f"{result.backend}" + (f" ({result.shots} shots)" if result.shots else ""),
        )


def plot_result(result: RunResult):
    """A matplotlib ``Figure`` of ``result``: the protocol's own figure where it has one
    (:data:`FIGURES`), else :func:`comparison_figure`, which draws any run."""
    return FIGURES.get(result.protocol, comparison_figure)(result)


def _plot_homogenization(result: RunResult):
    """System fidelity after k collisions and the final fidelity of each reservoir qubit;
    with ``--recoverability`` a third panel (:func:`_plot_recoverability`)."""
    if result.recoverability:
        fig, (left, right, third) = plt.subplots(
            1, 3, figsize=(15, 4), gridspec_kw={"width_ratios": [2, 1, 2]}
        )
        _plot_recoverability(third, result.recoverability)
    else:
        fig, (left, right) = plt.subplots(
            1, 2, figsize=(10, 4), gridspec_kw={"width_ratios": [2, 1]}
        )
    k = np.arange(len(result.reference["system_fidelity"]))
    _series(left, k, result, "system_fidelity")
    left.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xlabel("collisions k")
    left.set_ylabel(r"$F(\rho_S^{(k)}, \xi)$")
    p = result.parameters
    left.set_title(
        rf"homogenization, $\alpha$ = {p['alpha']:.4g}, N = {p['reservoir']}, "
        f"rounds = {p['rounds']}"
    )
    left.set_ylim(top=1.02)
    left.grid(alpha=0.3)
    left.legend(loc="lower right", fontsize=8)
    j = np.arange(1, len(result.reference["reservoir_fidelity"]) + 1)
    _series(right, j, result, "reservoir_fidelity")
    right.xaxis.set_major_locator(MaxNLocator(integer=True))
    right.set_xlabel("reservoir qubit j")
    right.set_ylabel(r"$F(\rho_{R_j}, \xi)$ at the end")
    right.set_ylim(top=1.02)
    right.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def _plot_recoverability(ax, block: dict) -> None:
    """δ_k = ‖ζ̂_k − P‖⋄, the optimal recovery's infidelity 1 − F_e and its diamond error ε_k
    vs k (log scale): exact lines, measured markers with standard errors (spec 000 §3)."""
    reference, measured = block["reference"], block.get("measured")
    k = reference["k"]
    series = (
        ("delta", r"$\delta_k = \|\hat\zeta_k - P\|_\diamond$", "tab:purple", 1.0),
        ("recovery_fidelity", r"$1 - F_e$ (optimal recovery)", "tab:green", -1.0),
        ("recovery_error", r"$\varepsilon_k$ = min$_R \|R\circ\zeta_k - $id$\|_\diamond$",
         "tab:orange", 1.0),
    )  # fmt: skip
    for key, label, color, sign in series:
        values = np.asarray(reference[key], dtype=float)
        ax.plot(k, values if sign > 0 else 1 - values, "-", color=color, label=label)
        if measured and measured.get(key) is not None:
            values = np.asarray(measured[key], dtype=float)
            ax.errorbar(measured["k"], values if sign > 0 else 1 - values,
                        yerr=measured.get(f"{key}_stderr"), fmt="s", ms=4, capsize=2,
                        color=color, mfc="none")  # fmt: skip
    ax.plot(
        k,
        reference["bound_ksw"],
        ":",
        color="gray",
        label=r"$2\sqrt{\delta_k}$ (bound on $\varepsilon$)",
    )
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("collisions k")
    ax.set_title("recoverability from the reservoir" + (": lines exact, squares measured"
                                                       if measured else " (exact)"))  # fmt: skip
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=7, loc="lower left")


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


def _plot_trace_distance(result: RunResult):
    """D(t) of spec 002 eq. (85), linear and logarithmic."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    p = result.parameters
    for ax, log in zip(axes, (False, True), strict=True):
        ref, ideal, obs = result.reference, result.ideal, result.observables
        ax.plot(
            ref["times"], ref["trace_distance"], "k--", lw=1.2, label="reference (Lindblad, QuTiP)"
        )
        if ideal:
            ax.plot(
                ideal["times"],
                ideal["trace_distance"],
                "-",
                color="tab:blue",
                lw=1,
                label="ideal circuit",
            )
        if obs and result.shots:
            ax.errorbar(
                obs["times"],
                obs["trace_distance"],
                yerr=obs.get("trace_distance_stderr"),
                fmt="s",
                ms=4,
                capsize=2,
                color="tab:red",
                label=f"{result.backend} ({result.shots} shots)",
            )
        ax.set_xlabel("t")
        ax.set_ylabel(r"$D(t) = \frac{1}{2}\|\mathrm{tr}_C\,\sigma(t) - \rho_D(t)\|_1$")
        ax.grid(alpha=0.3)
        if log:
            ax.set_yscale("log")
            ax.set_ylim(bottom=1e-8)
    axes[0].legend(fontsize=8)
    title = rf"coherent feedback, $\gamma$ = {p['gamma']:g}, dt = {p['dt']:g}"
    if p.get("transient_at") is not None:
        title += f", dephasing at t = {p['transient_at']:g}"
    if p.get("noise") == "persistent":
        title += ", persistent noise"
    fig.suptitle(title)
    fig.tight_layout()
    return fig


_LABELS = {
    "fidelity": r"$\langle F\rangle$ (eq. 15)",
    "leakage": "leakage (eq. 26)",
    "purity": r"logical purity Tr $\rho_L^2$",
}


def _plot_encodings(result: RunResult):
    """Fidelity, leakage and logical purity vs t for every encoding (spec 001): reference
    lines, ideal-circuit markers, device points with error bars."""
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.2))
    ref, ideal, obs = result.reference, result.ideal, result.observables
    names = [k for k, v in ref.items() if isinstance(v, dict) and "fidelity" in v]
    colors = dict(zip(names, plt.rcParams["axes.prop_cycle"].by_key()["color"], strict=False))
    for ax, key in zip(axes, ("fidelity", "leakage", "purity"), strict=True):
        for name in names:
            if key not in ref[name]:
                continue
            c = colors[name]
            ax.plot(ref["times"], ref[name][key], "-", color=c, lw=1.2, label=f"{name} reference")
            if ideal and key in ideal.get(name, {}):
                ax.plot(ideal["times"], ideal[name][key], "o", mfc="none", color=c, ms=5)
            if obs and result.shots and key in obs.get(name, {}):
                ax.errorbar(
                    obs["times"], obs[name][key], yerr=obs[name].get(f"{key}_stderr"), fmt="s",
                    ms=4, capsize=2, color=c,
                )  # fmt: skip
        ax.set_xlabel(r"t ($1/\Delta$)")
        ax.set_ylabel(_LABELS[key])
        ax.grid(alpha=0.3)
    axes[0].legend(fontsize=7)
    p = result.parameters
    device = f"; squares: {result.backend} ({result.shots} shots)" if result.shots else ""
    fig.suptitle(
        f"two dissipative qubits, J = {p['J']:g}, alpha = {p['alpha']:g}, omega_c = "
        f"{p['omega_c']}, {ref.get('solver', '')} reference (lines); circles: ideal circuit"
        + device,
        fontsize=10,
    )
    fig.tight_layout()
    return fig


def ising_figure(results: list[RunResult]):
    """Spec 004 Fig. 2: decoded success vs M for each Δ (with the exact master equation where
    M ≤ 4), and 1 − success on a log scale (exponential in M in the ordered phase)."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
    deltas = sorted({r.parameters["delta"] for r in results})
    for delta in deltas:
        points = sorted((r for r in results if r.parameters["delta"] == delta),
                        key=lambda r: r.parameters["size"])  # fmt: skip
        m = [r.parameters["size"] for r in points]
        p = np.array([r.observables["success_probability"] for r in points])
        e = np.array([r.observables["success_probability_stderr"] for r in points])
        beta = points[0].reference["beta"]
        label = f"Delta = {delta:g} (beta = {beta:.3f})"
        line = left.errorbar(m, p, yerr=e, fmt="o-", ms=4, capsize=2, label=label)
        exact = [(r.parameters["size"], r.reference["success_probability"]) for r in points
                 if r.reference.get("success_probability") is not None]  # fmt: skip
        if exact:
            left.plot(*zip(*exact, strict=True), "x", color=line[0].get_color(), ms=9)
        failing = p < 1
        right.errorbar(np.array(m)[failing], 1 - p[failing], yerr=e[failing], fmt="o-", ms=4,
                       capsize=2, label=label)  # fmt: skip
    left.axhline(0.5, color="k", lw=0.8, ls=":")
    for ax in (left, right):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    left.set_xlabel("M")
    left.set_ylabel("decoded success from |0> (x: exact master equation)")
    left.grid(alpha=0.3)
    left.legend(fontsize=8)
    right.set_yscale("log")
    right.set_xlabel("M")
    right.set_ylabel("1 - success")
    right.grid(alpha=0.3)
    fig.suptitle(f"dissipative 2D Ising memory, T = {results[0].parameters['time']:g}/kappa, "
                 f"beta_c = {results[0].reference['beta_c']:.4f}")  # fmt: skip
    fig.tight_layout()
    return fig


def gkp_figure(results: list[RunResult]):
    """Spec 003 Fig. 1: logical rate vs σ — truncated Lindblad points, the exact torus rate
    and the asymptotic formula as lines (quadrature noise), the noiseless rates otherwise."""
    from qcompile.protocols.gkp import gkp

    first = results[0].parameters
    sigmas = [r.parameters["sigma"] for r in results]
    fig, ax = plt.subplots(figsize=(6, 4))
    m = results[0].circuit.get("grid_qubits")
    where = f"compiled grid step, m = {m}" if m else f"Lindblad, cutoff {first['cutoff']}"
    ax.plot(sigmas, [r.observables["rate"] for r in results], "o", color="tab:red",
            label=f"{where} ({first['noise']} noise)")  # fmt: skip
    if any(s > 0 for s in sigmas):
        grid = np.geomspace(max(min(s for s in sigmas if s > 0) / 2, 1e-5), max(sigmas) * 1.5, 60)
    else:
        grid = np.array([1e-4, 1e-1])
    quadrature = first["noise"] == "quadrature"
    if quadrature:
        models = [gkp(**(first | {"sigma": s})) for s in grid]
        exact = [model.torus_rate() for model in models]
        asym = [model.asymptotic_rate() for model in models]
    else:  # the noiseless rates: one line, computed once
        noiseless = gkp(**(first | {"noise": "none", "sigma": 0.0}))
        exact = [noiseless.torus_rate()] * grid.size
        asym = [noiseless.asymptotic_rate()] * grid.size
    label = "exact (torus)" + ("" if quadrature else ", noiseless")
    ax.plot(grid, exact, "k-", label=label)
    ax.plot(grid, asym, "k--", label="asymptotic" + ("" if quadrature else ", noiseless"))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("sigma")
    ax.set_ylabel("logical rate (units of Gamma)")
    ax.set_title(f"GKP {first['lattice']}, epsilon = {first['epsilon']:g}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
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


#: Protocols whose runs have a figure of their own; every other run (a plugin's, ``lindblad``,
#: the bosonic rates) gets :func:`comparison_figure`.
FIGURES = {
    "homogenization": _plot_homogenization,
    "coherent-feedback": _plot_trace_distance,
    "dissipative-qubits": _plot_encodings,
    "ising-memory": lambda result: ising_figure([result]),
}


def save_figure(fig, path: str | os.PathLike) -> Path:
    """Write a figure as PNG, atomically, and close it."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=120)
    plt.close(fig)
    return write_atomic(path, buffer.getvalue())


def save_plot(result: RunResult, path: str | os.PathLike) -> Path:
    """Write the plot of ``result`` as PNG, atomically."""
    return save_figure(plot_result(result), path)


#: Protocols with one figure for several points (``qcompile run gkp --sigma 0.01,0.03``:
#: rate vs σ; ``run ising-memory --size 2,3``: success vs M); any other protocol's points
#: are plotted by their last one.
SWEEP_FIGURES = {"gkp": gkp_figure, "ising-memory": ising_figure}


def save_plots(results: list[RunResult], path: str | os.PathLike) -> Path:
    """Write the plot of a run command's points (:data:`SWEEP_FIGURES`) as PNG, atomically."""
    figure = SWEEP_FIGURES.get(results[-1].protocol)
    if figure is None:
        return save_plot(results[-1], path)
    return save_figure(figure(results), path)
