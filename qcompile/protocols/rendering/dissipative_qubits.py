"""Two dissipative qubits' tables (spec 001): each encoding's late-time fidelity, purity and
leakage on the reference, the ideal circuit and the device, and the rankings (§5)."""

from __future__ import annotations

import numpy as np
from rich.console import Console
from rich.table import Table

from qcompile.protocols.dissipative_qubits import rank_encodings
from qcompile.protocols.rendering import fmt

__all__ = ["print_encodings", "render"]


def render(results: list, console: Console) -> None:
    """Each run's encodings table and rankings."""
    for result in results:
        print_encodings(result, console)


def print_encodings(result, console: Console) -> None:
    """The compiled circuits, late-time means per encoding and the rankings."""
    ref, ideal, obs = result.reference, result.ideal, result.observables
    info = result.circuit
    if info:
        console.print(
            f"circuits: {info['collisions']} exact collisions of dt = {info['collision_dt']:g} "
            f"on {info['qubits']} qubits ({info['lowering']})"
            + (
                f"; compiled for {info['compiled']['target']}: "
                f"{info['compiled']['two_qubit_gates']} two-qubit gates in the longest"
                if "compiled" in info
                else ""
            )
        )
    names = [k for k, v in ref.items() if isinstance(v, dict) and "fidelity" in v]
    late = lambda block, name, key: (  # noqa: E731
        float(
            np.mean(
                np.asarray(block[name][key])[
                    np.asarray(block["times"]) >= block["times"][-1] * 2 / 3
                ]
            )
        )
        if block and name in block and key in block[name]
        else None
    )
    table = Table(title=f"late-time means (last third), reference: {ref.get('solver')}")
    for column in ("encoding", "<F> reference", "ideal circuit", "device", "±",
                   "purity (ref)", "leakage (ref)"):  # fmt: skip
        table.add_column(column, justify="right")
    for name in names:
        error = late(obs, name, "fidelity_stderr") if result.shots else None
        table.add_row(
            name,
            fmt(late(ref, name, "fidelity"), 4),
            fmt(late(ideal, name, "fidelity"), 4),
            fmt(late(obs, name, "fidelity"), 4) if result.shots else "—",
            fmt(error, 4),
            fmt(late(ref, name, "purity"), 4),
            fmt(late(ref, name, "leakage"), 4),
        )
    console.print(table)
    for label, block in (
        ("reference", ref),
        (f"device ({result.backend})", obs if result.shots else None),
    ):
        if not block:
            continue
        ranking = rank_encodings(block)
        scores = dict(ranking)
        text = " > ".join(f"{n} ({s:.3f})" for n, s in ranking)
        console.print(f"ranking on {label}: {text}")
        if "physical" in scores:
            beaten = [n for n, s in ranking if n != "physical" and s > scores["physical"]]
            console.print(
                f"  encodings that beat the physical qubit: {', '.join(beaten) or 'none'}"
            )
