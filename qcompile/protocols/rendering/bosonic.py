"""The oscillators' tables: the GKP qubit's logical rate against the torus closure
(spec 003, Theorems 3 and 5) and the cat qubit's amplitude and flip rates (spec 004 §2), from
the truncated Lindbladian or the compiled collision step."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from qcompile.protocols.rendering import fmt

__all__ = ["render_cat", "render_gkp"]


def _raw_text(result, key: str) -> str:
    """`` (raw x ± e; readout, zne)`` when the device value was mitigated, else empty."""
    used = result.mitigation or {}
    block = used.get("readout") or used.get("zne")
    if not block:
        return ""
    raw = block["raw"]
    applied = ", ".join(k for k in ("readout", "zne") if k in used)
    return f" (raw {raw[key]:.3f} ± {raw[key + '_stderr']:.3f}; mitigated: {applied})"


def render_gkp(results: list, console: Console) -> None:
    """The rate of every σ: exact, asymptotic and truncated Lindblad or compiled step."""
    parameters = results[0].parameters
    lattice, epsilon, noise = parameters["lattice"], parameters["epsilon"], parameters["noise"]
    circuits = bool(results[0].circuit)
    theorem = "3" if lattice == "square" else "5"
    where = f"cutoff {results[0].parameters['cutoff']}"
    table = Table(
        title=f"GKP {lattice}, epsilon = {epsilon:g}, noise {noise}: logical rate (units of Gamma)"
    )
    columns = ["sigma", f"exact (torus, Thm {theorem})", "asymptotic"]
    columns += (["compiled step (Kraus)", "grid Lindblad", "step error", "2q gates/step"]
                if circuits else [f"Lindblad, {where}", "bias"])  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")
    for r in results:
        ref, obs = r.reference, r.observables
        row = [f"{r.parameters['sigma']:g}", fmt(ref["torus_rate"], 6),
               fmt(ref["asymptotic_rate"], 6), f"{obs['rate']:.6f}"]  # fmt: skip
        if circuits:
            row += [f"{r.ideal['rate']:.6f}", f"{obs['step_error']:.2e}",
                    str(r.circuit["two_qubit_gates"])]  # fmt: skip
        else:
            row.append(fmt(obs.get("truncation_bias"), 4))
        table.add_row(*row)
    console.print(table)
    if circuits:
        c = results[0].circuit
        console.print(
            f"grid: {c['grid_qubits']} qubits + 1 ancilla, dq = {c['spacing']:.4f}, |q|,|p| <= "
            f"{c['window']:.2f} (vacuum outside: {c['truncation_error_vacuum']:.1e}); dt = "
            f"{c['dt']:g} (dt·max|L|^2 = {c['dt_norm']:.2f}); one step on {c['target']}: "
            f"{c['two_qubit_gates']} two-qubit gates, depth {c['depth']}"
        )
        dev, backend = results[0].observables["device"], results[0].backend
        console.print(
            f"{dev['steps']} compiled steps from the vacuum with shots on {backend}: <Z> = "
            f"{dev['z']:.3f} ± {dev['z_stderr']:.3f}{_raw_text(results[0], 'z')} (Kraus "
            f"iteration: {results[0].ideal['z_after_steps']:.3f})"
        )
    if noise not in ("none", "quadrature"):
        console.print("(no torus closure for this noise: the exact line is the noiseless rate)")


def render_cat(results: list, console: Console) -> None:
    """Each run's amplitude and flip rates, computed beside expected."""
    for result in results:
        photons = result.parameters["photons"]
        circuits = bool(result.circuit)
        obs, ref = result.observables, result.reference
        table = Table(title=f"cat qubit, N = {photons:g} (|alpha|^2 = {2 * photons:g})")
        if circuits:
            for column in (
                "quantity",
                "compiled step (Kraus)",
                "Fock-binary Lindblad",
                "2 kappa1 |alpha|^2",
            ):
                table.add_column(column, justify="right")
            table.add_row(
                "bit-flip (parity) rate",
                fmt(obs["bit_flip_rate"], 5),
                fmt(result.ideal["bit_flip_rate"], 5),
                fmt(ref["bit_flip_rate"], 5),
            )
            table.add_row("phase-flip rate (kappa1 = 0)", fmt(obs["phase_flip_rate"], 6), "—", "—")
            table.add_row("one-step error", f"{obs['step_error']:.2e}", "—", "—")
            table.add_row("2q gates per step", str(result.circuit["two_qubit_gates"]), "—", "—")
            dev = obs["device"]
            table.add_row(f"parity after {dev['steps']} steps (shots)",
                          f"{dev['parity']:.3f} ± {dev['parity_stderr']:.3f}"
                          + _raw_text(result, "parity"),
                          f"{result.ideal['parity_after_steps']:.3f}", "—")  # fmt: skip
        else:
            for column in ("quantity", "computed", "expected"):
                table.add_column(column, justify="right")
            table.add_row("<n> (from vacuum, no errors)", f"{obs['n']:.5f}", f"{ref['n']:.5f}")
            table.add_row(
                "<a^2>", f"{obs['a2'][0]:+.5f}{obs['a2'][1]:+.5f}i", f"{ref['a2'][1]:+.5f}i"
            )
            table.add_row(
                "bit-flip (parity) rate", fmt(obs["bit_flip_rate"], 5), fmt(ref["bit_flip_rate"], 5)
            )
            table.add_row("phase-flip rate (kappa1 = 0)", fmt(obs["phase_flip_rate"], 6), "—")
        console.print(table)
