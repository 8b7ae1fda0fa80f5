"""Coherent feedback's tables (spec 002): D(t) on the device, the ideal circuit and the
reference, the Fig. 1 table and Theorem 1 (§6a), and the plateaus of a sweep over γ (§6b)."""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.table import Table

from qcompile.protocols.coherent_feedback import (
    FIG1_TABLE,
    FIG2_PLATEAU,
    PARAMETERS,
    from_mapping,
    plateau,
)
from qcompile.protocols.rendering import fmt

__all__ = ["plateaus", "print_plateaus", "print_trace_distance", "render"]


def render(results: list, console: Console) -> None:
    """Each run's D(t) table; the plateaus when γ was swept."""
    names = {p.name for p in PARAMETERS}
    for result in results:
        protocol = from_mapping({k: v for k, v in result.parameters.items() if k in names})
        print_trace_distance(protocol, result, console)
    if len(results) > 1:
        print_plateaus(results, console)


def plateaus(results) -> list[dict]:
    """The plateau of D(t) of each run: reference, ideal circuit and device."""
    rows = []
    for r in results:
        row = {
            "gamma": r.parameters["gamma"],
            "reference": plateau(r.reference["times"], r.reference["trace_distance"]),
        }
        if r.ideal:
            row["ideal"] = plateau(r.ideal["times"], r.ideal["trace_distance"])
        if r.observables and r.shots:
            row["device"] = plateau(r.observables["times"], r.observables["trace_distance"])
        rows.append(row)
    return rows


def print_plateaus(results, console: Console) -> None:
    """The plateaus of a sweep over gamma beside Fig. 2's (spec 002 §6b)."""
    table = Table(title="plateau: max of D(t) over the last period (limsup, spec 002 §6b)")
    for column in ("gamma", "device", "ideal circuit", "reference", "spec (Fig. 2)"):
        table.add_column(column, justify="right")
    rows = plateaus(results)
    fig2 = results[0].parameters["noise"] == "persistent" and results[0].parameters["t_max"] >= 30
    for row in rows:
        spec = FIG2_PLATEAU.get(row["gamma"]) if fig2 else None
        table.add_row(
            f"{row['gamma']:g}",
            fmt(row.get("device"), 4),
            fmt(row.get("ideal"), 4),
            fmt(row["reference"], 4),
            fmt(spec, 4),
        )
    console.print(table)
    for key in ("reference", "ideal"):
        values = [row[key] for row in rows if key in row]
        if len(values) > 1:
            falling = all(b < a for a, b in zip(values, values[1:], strict=False))
            console.print(
                f"{key}: plateau {'falls' if falling else 'does NOT fall'} as gamma grows"
            )


def print_trace_distance(protocol, result, console: Console) -> None:
    """D(t) on the device, the ideal circuit and the reference; Fig. 1 and Theorem 1."""
    ref, ideal, obs = result.reference, result.ideal, result.observables
    lowering = result.circuit.get("lowering")
    if lowering:
        console.print(
            f"lowered: {lowering['steps']} steps of dt={lowering['dt']:g}, "
            f"{lowering['system_qubits']}+{lowering['ancillas']} qubits, "
            f"~{lowering['two_qubit_gates']} CX, method {lowering['method']}"
        )
    device = {
        t: (v, e)
        for t, v, e in zip(
            obs.get("times", []),
            obs.get("trace_distance", []),
            obs.get("trace_distance_stderr", []),
            strict=False,
        )
    }
    table = Table(title=f"D(t), gamma={protocol.gamma:g}  ({result.backend})")
    for column in ("t", "device", "±", "ideal circuit", "reference"):
        table.add_column(column, justify="right")
    times = ref["times"]
    stride = max(1, len(times) // 25)
    for i, t in enumerate(times):
        if i % stride and i != len(times) - 1 and not (result.shots and t in device):
            continue
        value, error = device.get(t, (None, None))
        if not result.shots and obs:
            value, error = obs["trace_distance"][i], None
        table.add_row(
            f"{t:g}",
            fmt(value, 6),
            fmt(error, 4),
            fmt(ideal["trace_distance"][i], 6) if ideal else "—",
            fmt(ref["trace_distance"][i], 6),
        )
    console.print(table)
    if ideal:
        gap = float(np.max(np.abs(np.subtract(ideal["trace_distance"], ref["trace_distance"]))))
        console.print(
            f"ideal circuit vs reference: max |dD| = {gap:.2e} over {len(times)} times "
            f"({'within' if gap <= 1e-3 else 'NOT within'} 1e-3)"
        )
    if protocol.is_fig1():
        series = ideal or ref
        lookup = dict(zip(series["times"], series["trace_distance"], strict=True))
        checked = {t: v for t, v in FIG1_TABLE.items() if t in lookup}
        if checked:
            dev = max(abs(lookup[t] - v) for t, v in checked.items())
            which = "ideal circuit" if ideal else "reference"
            console.print(
                f"Fig. 1 table (spec 002 §6a), {len(checked)} times: max |{which} - table| = "
                f"{dev:.2e} ({'reproduced' if dev <= 1e-3 else 'NOT reproduced'} within 1e-3)"
            )
        before = [v for t, v in lookup.items() if t < protocol.transient_at]
        if before:
            console.print(f"Theorem 1: max D(t) before t_a = {max(before):.1e}")
    if protocol.noise == "persistent":
        console.print(
            f"plateau (max of D over the last period): reference "
            f"{plateau(ref['times'], ref['trace_distance']):.4f}"
            + (
                f", ideal circuit {plateau(ideal['times'], ideal['trace_distance']):.4f}"
                if ideal
                else ""
            )
        )
