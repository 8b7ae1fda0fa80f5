"""``qcompile compile PROTOCOL``: compile only, print the report, write QPY or OpenQASM 3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from qcompile.cli.common import (
    JsonPath,
    Seed,
    _check_output_path,
    compile_app,
    out,
)

ModelPath = Annotated[
    Path,
    typer.Option(
        "--model", help="The open system: a TOML model file (format: README, 'Your own model')."
    ),
]
TMax = Annotated[float | None, typer.Option(help="Final time (overrides the model's t_max).")]
Dt = Annotated[float | None, typer.Option(help="Circuit time step (overrides the model's dt).")]
SampleEvery = Annotated[
    float | None, typer.Option(help="Spacing of reported times (a multiple of dt).")
]
Rule = Annotated[
    str | None, typer.Option(help="Coefficient sampling: midpoint | left | end (default midpoint).")
]
Synthesis = Annotated[
    str | None, typer.Option(help="trotter (product formula) | exact (one unitary per step).")
]
Order = Annotated[int | None, typer.Option(help="Product-formula order, 1 or 2 (default 2).")]
Collision = Annotated[
    str | None, typer.Option(help="Jump operators: exact | dilation | channel (default exact).")
]


def lindblad_protocol(model: Path, t_max, dt, sample_every):
    """The validated protocol of a model file, with the command line's overrides."""
    from qcompile.protocols.lindblad import lindblad

    return lindblad(model, t_max=t_max, dt=dt, sample_every=sample_every)


def lowering_overrides(rule, synthesis, order, collision) -> dict:
    return {"rule": rule, "synthesis": synthesis, "order": order, "collision": collision}


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
        help="What the compiler may assume of the inputs: zero (run from |0…0⟩: fewer "
        "two-qubit gates), any (an operator), auto (zero if the circuit measures)."
    ),
]


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


def compile_and_report(
    protocol,
    target: str,
    output: Path | None,
    seed,
    json_path,
    initial_state: str = "auto",
    circuits: list | None = None,
) -> None:
    """Compile ``protocol.circuit()`` — or ``circuits``, a data-flow protocol's lowered
    circuits — for ``target``; print the report (of the largest), write what was asked (QPY
    holds every circuit, OpenQASM 3 one)."""
    from qcompile.errors import BackendUnavailable, InvalidParameter
    from qcompile.passes import INITIAL_STATES
    from qcompile.passes.compile import compile_circuits, compile_protocol
    from qcompile.passes.targets import GENERIC_TARGETS, fake_backend, fake_backend_names
    from qcompile.results import write_atomic
    from qcompile.run.runner import check_shots_and_seed

    check_shots_and_seed(None, seed)
    if circuits is not None and len(circuits) > 1 and output and output.suffix.lower() == ".qasm":
        raise InvalidParameter(
            "output", str(output), f"a .qpy path: OpenQASM 3 holds one circuit, {protocol.name} "
            f"lowers to {len(circuits)}"
        )  # fmt: skip
    if initial_state not in INITIAL_STATES:
        raise InvalidParameter(
            "initial_state", initial_state, "one of " + ", ".join(INITIAL_STATES)
        )
    try:
        resolved = None if target in GENERIC_TARGETS else fake_backend(target)
    except BackendUnavailable:
        raise InvalidParameter(
            "target", target, "one of " + ", ".join(GENERIC_TARGETS) + " or a fake backend: "
            + ", ".join(fake_backend_names())
        ) from None  # fmt: skip
    fits = getattr(protocol, "check_fits", None)  # a fixed register refused before compiling
    if resolved is not None and fits is not None:
        fits(resolved.num_qubits, f"{target} ({resolved.num_qubits} qubits)")
    if circuits is None:
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
            "compile_time_s": report.compile_time_s,
        }
        write_atomic(json_path, json.dumps(payload, indent=2).encode())


@compile_app.command("lindblad")
def compile_lindblad(
    model: ModelPath,
    t_max: TMax = None,
    dt: Dt = None,
    rule: Rule = None,
    synthesis: Synthesis = None,
    order: Order = None,
    collision: Collision = None,
    target: Target = "fake_torino",
    output: OutputPath = None,
    seed: Seed = 0,
    json_path: JsonPath = None,
    initial_state: InitialState = "auto",
) -> None:
    """Compile a TOML open-system model (the whole time evolution) and print the report."""
    _check_output_path("output", output)
    _check_output_path("json", json_path)
    from qcompile.protocols.lindblad import lindblad

    protocol = lindblad(model, t_max=t_max, dt=dt, sample_every=None)
    overrides = {"rule": rule, "synthesis": synthesis, "order": order, "collision": collision}
    lowered = protocol.with_lowering(overrides)
    compile_and_report(lowered, target, output, seed, json_path, initial_state)
