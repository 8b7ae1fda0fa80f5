"""What every ``qcompile compile PROTOCOL`` does (the commands are generated from the
protocols' declarations, :mod:`qcompile.cli.generated`): compile only, print the report,
write QPY or OpenQASM 3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qcompile.cli.common import out, write_json_output

OutputPath = Annotated[
    Path | None,
    typer.Option(
        "--output", "-o", help="Write the compiled circuit: OpenQASM 3 for *.qasm, else QPY."
    ),
]
Target = Annotated[
    str, typer.Option(help="A fake IBM backend (fake_torino, ...) or all_to_all_cx.")
]
InitialState = Annotated[
    str,
    typer.Option(
        help="What the compiler may assume of the inputs: run (default: as `qcompile run` "
        "compiles it — from |0…0⟩, or a repeated step as an operator), zero (from |0…0⟩: "
        "fewer two-qubit gates), any (an operator), auto (zero if the circuit measures)."
    ),
]
#: ``--initial-state run``: what ``qcompile run`` assumes (resolved per protocol)
AS_RUN = "run"


def run_initial_state(plugin) -> str:
    """The initial state ``qcompile run`` compiles a protocol's circuits for: its circuits
    start from |0…0⟩ (``zero``) — except a protocol run as a repeated step (the step path:
    ``lower_step``, GKP and the cat), whose step acts on any oscillator state and is compiled
    as an operator with its ancillas known after each reset (``auto``)."""
    return "auto" if hasattr(plugin, "lower_step") else "zero"


def circuit_bytes(circuit, path: Path) -> bytes:
    """The circuit (or a list of them) as OpenQASM 3 text when ``path`` ends in ``.qasm``
    (one circuit), else as QPY."""
    import io

    from qiskit import qasm3, qpy

    if path.suffix.lower() == ".qasm":
        (single,) = circuit if isinstance(circuit, list) else [circuit]
        return qasm3.dumps(single).encode()
    buffer = io.BytesIO()
    qpy.dump(circuit, buffer)
    return buffer.getvalue()


def checked_target(target: str, seed) -> object | None:
    """The fake backend ``target`` names (``None`` for a generic target), with ``seed``
    checked too: both refused by name before any compilation."""
    from qcompile.errors import BackendUnavailable, InvalidParameter
    from qcompile.passes.targets import GENERIC_TARGETS, fake_backend, fake_backend_names
    from qcompile.run.runner import check_shots_and_seed

    check_shots_and_seed(None, seed)
    try:
        return None if target in GENERIC_TARGETS else fake_backend(target)
    except BackendUnavailable:
        raise InvalidParameter(
            "target", target, "one of " + ", ".join(GENERIC_TARGETS) + " or a fake backend: "
            + ", ".join(fake_backend_names())
        ) from None  # fmt: skip


def compile_and_report(
    protocol,
    target: str,
    output: Path | None,
    seed,
    json_path,
    initial_state: str = "auto",
    circuits: list | None = None,
    note: str | None = None,
    check_register: bool = True,
    compiled: tuple[list, object] | None = None,
) -> None:
    """Compile ``protocol.circuit()`` — or ``circuits``, a data-flow protocol's lowered
    circuits; or take them ``compiled`` (with their report) — for ``target``; print the
    report (of the largest) and ``note`` (what was compiled, where it is not what the
    parameters say), write what was asked (QPY holds every circuit, OpenQASM 3 one)."""
    from qcompile.errors import InvalidParameter, ResourceLimit
    from qcompile.passes import INITIAL_STATES
    from qcompile.passes.compile import compile_circuits, compile_protocol
    from qcompile.results import write_atomic

    if circuits is not None and len(circuits) > 1 and output and output.suffix.lower() == ".qasm":
        raise InvalidParameter(
            "output", str(output), f"a .qpy path: OpenQASM 3 holds one circuit, {protocol.name} "
            f"lowers to {len(circuits)}"
        )  # fmt: skip
    if initial_state not in INITIAL_STATES:
        raise InvalidParameter(
            "initial_state", initial_state, "one of " + ", ".join((AS_RUN, *INITIAL_STATES))
        )
    resolved = checked_target(target, seed)
    fits = getattr(protocol, "check_fits", None)  # a fixed register refused before compiling
    if resolved is not None and fits is not None and check_register:
        fits(resolved.num_qubits, f"{target} ({resolved.num_qubits} qubits)")
    widest = max((c.num_qubits for c in circuits or ()), default=0)
    if resolved is not None and widest > resolved.num_qubits:
        raise ResourceLimit(
            f"the circuits need {widest} qubits; {target} has {resolved.num_qubits}"
        )
    if compiled is not None:  # compiled as the run compiles them (``compiled``: with a report)
        compiled, report = compiled
    elif circuits is None:
        circuit, report = compile_protocol(protocol, resolved, seed=seed,
                                           initial_state=initial_state)  # fmt: skip
        compiled = [circuit]
    else:
        compiled, report = compile_circuits(circuits, resolved, seed=seed,
                                            initial_state=initial_state)  # fmt: skip
    table = Table(title=f"compile report: {protocol.name} on {report.target}")
    table.add_column("metric")
    table.add_column("value", justify="right")
    for key, value in report.to_dict().items():
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    out.print(table)
    if note:
        out.print(note)
    if output:
        write_atomic(output, circuit_bytes(compiled, output))
        kind = "OpenQASM 3" if output.suffix.lower() == ".qasm" else "QPY"
        out.print(f"circuit ({kind}): {output}")
    if json_path:
        payload = {
            "protocol": protocol.name,
            "parameters": protocol.parameters(),
            "seed": seed,
            "initial_state": initial_state,
            "circuit": report.to_dict(),
            **({"note": note} if note else {}),
            "compile_time_s": report.compile_time_s,
        }
        write_json_output(json_path, json.dumps(payload, indent=2).encode(), "report")
