"""The built-in protocols' figures (matplotlib; the plugin interface's ``figure`` and
``sweep_figure``, :mod:`qcompile.protocols.plugin`): homogenization's fidelities after k
collisions and its recoverability (spec 000 §3), coherent feedback's D(t) (spec 002 eq. 85),
the encodings of two dissipative qubits (spec 001), the Ising memory's success vs M (spec 004
Fig. 2) and the GKP rate vs σ (spec 003 Fig. 1). They read only a run's
:class:`~qcompile.results.RunResult`."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from qcompile.results import RunResult

__all__ = [
    "encodings_figure",
    "gkp_figure",
    "homogenization_figure",
    "ising_figure",
    "recoverability_axes",
    "trace_distance_figure",
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


def homogenization_figure(result: RunResult):
    """System fidelity after k collisions and the final fidelity of each reservoir qubit;
    with ``--recoverability`` a third panel (:func:`recoverability_axes`)."""
    if result.recoverability:
        fig, (left, right, third) = plt.subplots(
            1, 3, figsize=(15, 4), gridspec_kw={"width_ratios": [2, 1, 2]}
        )
        recoverability_axes(third, result.recoverability)
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


def recoverability_axes(ax, block: dict) -> None:
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


def trace_distance_figure(result: RunResult):
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


def encodings_figure(result: RunResult):
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
