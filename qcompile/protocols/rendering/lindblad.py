"""A user's open system (``lindblad``): the model, its lowering and compiled cost, printed
above the device/ideal/reference comparison every run gets."""

from __future__ import annotations

__all__ = ["describe"]


def describe(result) -> list[str]:
    """The model, its lowering and compiled cost, as lines."""
    lines = []
    parameters = result.parameters
    lowering = result.circuit.get("lowering", {})
    title = parameters.get("title", "lindblad")
    lines.append(
        f"{title}: {parameters.get('qubits')} qubits, t_max = {parameters['t_max']:g}, "
        f"dt = {parameters['dt']:g} on {result.backend}"
        + (f", {result.shots} shots" if result.shots else "")
    )
    if lowering:
        method = lowering.get("method", {})
        lines.append(
            f"lowering: {lowering['steps']} steps, {lowering['ancillas']} ancilla(s), "
            f"{lowering['two_qubit_gates']} CX before compiling ("
            + ", ".join(f"{k} {v}" for k, v in method.items())
            + f"); Hamiltonian splitting bound {lowering['error_bound']:.1e}"
        )
    compiled = result.circuit.get("compiled")
    if compiled:
        lines.append(
            f"compiled for {compiled['target']}: {compiled['two_qubit_gates']} two-qubit gates, "
            f"depth {compiled['depth']} (largest tomography circuit)"
        )
    return lines
