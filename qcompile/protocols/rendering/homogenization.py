"""Homogenization's tables (spec 000): F(ρ_S^(k), ξ) for k = 0..N, F(ρ_Rj, ξ) at the end,
and the recoverability of the input (spec 000 §3)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from qcompile.protocols.rendering import fmt
from qcompile.protocols.rendering.mitigation import print_mitigation

__all__ = ["print_homogenization", "print_recoverability", "render"]


def render(results: list, console: Console) -> None:
    """Each run's fidelity tables, what mitigation did, and its recoverability."""
    for result in results:
        print_homogenization(result, console)
        if result.mitigation:
            print_mitigation(result, console)
        if result.recoverability:
            print_recoverability(result.recoverability, console)


def print_homogenization(result, console: Console) -> None:
    obs, ideal, ref = result.observables, result.ideal, result.reference
    p = result.parameters
    device_label = result.backend + (f" ({result.shots} shots)" if result.shots else " (exact)")
    info = result.circuit
    if info:
        console.print(
            f"circuit on {info['target']}: {info['num_qubits']} qubits, "
            f"{info['two_qubit_gates']} two-qubit gates, depth {info['depth']}"
        )
    table = Table(
        title=f"F(rho_S^(k), xi)   alpha={p['alpha']:.6g}  eta={p['eta']:.6g}  "
        f"N={p['reservoir']}  rounds={p['rounds']}"
    )
    for column in ("k", device_label, "±", "ideal", "reference"):
        table.add_column(column, justify="right")
    for k, reference in enumerate(ref["system_fidelity"]):
        table.add_row(
            str(k),
            fmt(obs["system_fidelity"][k]) if obs else "—",
            fmt(obs["system_fidelity_stderr"][k], 4) if obs else "—",
            fmt(ideal["system_fidelity"][k]) if ideal else "—",
            fmt(reference),
        )
    console.print(table)
    table = Table(title="F(rho_Rj, xi) at the end")
    for column in ("j", device_label, "±", "ideal", "reference"):
        table.add_column(column, justify="right")
    for j, reference in enumerate(ref["reservoir_fidelity"]):
        table.add_row(
            str(j + 1),
            fmt(obs["reservoir_fidelity"][j]) if obs else "—",
            fmt(obs["reservoir_fidelity_stderr"][j], 4) if obs else "—",
            fmt(ideal["reservoir_fidelity"][j]) if ideal else "—",
            fmt(reference),
        )
    console.print(table)


def print_recoverability(block: dict, console: Console) -> None:
    """δ_k, the optimal and Petz recovery fidelities, ε_k and its bounds, exact; then the
    same figures measured, where the backend measured them (spec 000 §3)."""
    reference, measured = block["reference"], block.get("measured")
    table = Table(title="recoverability of the input from the reservoir (exact)")
    for column in ("k", "delta", "F opt", "F Petz", "eps", "2sqrt(delta)", "2sqrt2 delta"):
        table.add_column(column, justify="right")
    for i, k in enumerate(reference["k"]):
        keys = ("delta", "recovery_fidelity", "petz_fidelity", "recovery_error", "bound_ksw",
                "bound_paper")  # fmt: skip
        table.add_row(str(k), *(fmt(reference[key][i]) for key in keys))
    console.print(table)
    console.print(
        "delta = ||zeta^_k - P||_diamond (input -> system vs constant xi); F = max_R F_e(R o "
        "zeta_k) (input -> reservoir, SDP); eps = min_R ||R o zeta_k - id||_diamond"
    )
    if not measured:
        return
    table = Table(title="recoverability measured (process tomography, ± bootstrap)")
    for column in ("k", "delta", "F opt", "F Petz", "eps"):
        table.add_column(column, justify="right")
    for i, k in enumerate(measured["k"]):
        cells = []
        for key in ("delta", "recovery_fidelity", "petz_fidelity"):
            cells.append(f"{fmt(measured[key][i], 4)} ± {fmt(measured[key + '_stderr'][i], 4)}")
        table.add_row(str(k), *cells, fmt(measured["recovery_error"][i], 4))
    console.print(table)
