r"""Time-ordered product formulas for H(t) = Σ_j c_j(t) P_j (Pauli strings P_j).

Terms are grouped into sets of mutually commuting Pauli strings by colouring the graph whose
edges join anticommuting strings (networkx greedy colouring): inside a group the exponential
factorises exactly, so the splitting error comes only from commutators between groups, and
fewer groups mean fewer of them. Inside a group the terms are laid out in layers of
qubit-disjoint strings (a second colouring, of the overlap graph), so each layer is one round
of two-qubit gates. One step of length δt is

* first order (Lie–Trotter): :math:`\prod_{g} e^{-i H_g(s)\,\delta t}`,
  error ≤ :math:`\tfrac{\delta t^2}{2}\sum_{g<h}\|[H_g,H_h]\|`;
* second order (Strang):
  :math:`\prod_{g} e^{-i H_g\delta t/2}\prod_{g}^{\leftarrow} e^{-iH_g\delta t/2}`,
  error ≤ :math:`\tfrac{\delta t^3}{12}\sum_g\|[\sum_{h>g}H_h,[\sum_{h>g}H_h,H_g]]\|
  + \tfrac{\delta t^3}{24}\sum_g\|[H_g,[H_g,\sum_{h>g}H_h]]\|`
  (Childs et al., PRX 11, 011020 (2021)),

with the coefficients frozen at a sampling time s of the step (``left`` t_k, ``midpoint``
t_k + δt/2, ``end`` t_{k+1}). The bounds are for the frozen Hamiltonian; the error of freezing
it (first order for ``left``/``end`` unless the frame makes it exact) is measured, not bounded.
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
from qiskit.circuit import Parameter, QuantumCircuit
from qiskit.circuit.library import PauliEvolutionGate
from qiskit.quantum_info import Pauli, SparsePauliOp

__all__ = [
    "pauli_terms",
    "commuting_groups",
    "trotter_step",
    "trotter_step_template",
    "splitting_error_bound",
    "evolution_gate",
    "parallel_layers",
]


def pauli_terms(matrix: np.ndarray, atol: float = 1e-12) -> SparsePauliOp:
    """The Pauli expansion of a Hermitian matrix (qubit q of the label = circuit qubit q)."""
    op = SparsePauliOp.from_operator(np.asarray(matrix, dtype=complex), atol=atol).simplify(
        atol=atol
    )
    if np.max(np.abs(op.coeffs.imag), initial=0.0) > 1e-9:
        raise ValueError("the matrix is not Hermitian")
    return SparsePauliOp(op.paulis, op.coeffs.real.astype(complex))


def commuting_groups(labels: Sequence[str]) -> list[list[int]]:
    """Indices of ``labels`` partitioned into mutually commuting groups (few groups)."""
    paulis = [Pauli(label) for label in labels]
    graph = nx.Graph()
    graph.add_nodes_from(range(len(paulis)))
    for i in range(len(paulis)):
        for j in range(i + 1, len(paulis)):
            if not paulis[i].commutes(paulis[j]):
                graph.add_edge(i, j)
    colours = nx.greedy_color(graph, strategy="largest_first")
    groups: dict[int, list[int]] = {}
    for node in sorted(colours):
        groups.setdefault(colours[node], []).append(node)
    return [groups[c] for c in sorted(groups)]


def parallel_layers(labels: Sequence[str], indices: Sequence[int]) -> list[list[int]]:
    """Order commuting terms into layers of qubit-disjoint terms (greedy colouring of the
    overlap graph), so that each layer is one round of two-qubit gates."""
    supports = {j: {q for q, c in enumerate(reversed(labels[j])) if c != "I"} for j in indices}
    graph = nx.Graph()
    graph.add_nodes_from(indices)
    for a in indices:
        for b in indices:
            if a < b and supports[a] & supports[b]:
                graph.add_edge(a, b)
    colours = nx.greedy_color(graph, strategy="largest_first")
    layers: dict[int, list[int]] = {}
    for node in indices:
        layers.setdefault(colours[node], []).append(node)
    return [layers[c] for c in sorted(layers)]


def evolution_gate(op: SparsePauliOp, time: float | Parameter) -> PauliEvolutionGate:
    """exp(−i ``time`` · ``op``) as a Qiskit gate (exact when the terms of ``op`` commute)."""
    return PauliEvolutionGate(op, time=time)


def trotter_step_template(
    labels: Sequence[str], num_qubits: int, order: int
) -> tuple[QuantumCircuit, list[Parameter]]:
    """One product-formula step with a parameter x_j per term: ∏ exp(−i x_j P_j).

    Bind x_j = w_j(s)·δt. For ``order`` 2 the parameters are used for two half steps, so
    bind the same x_j; the template divides by two itself.
    """
    if order not in (1, 2):
        raise ValueError("order must be 1 or 2")
    params = [Parameter(f"x{j}") for j in range(len(labels))]
    groups = commuting_groups(labels)
    qc = QuantumCircuit(num_qubits, name="trotter_step")
    # inside a commuting group the order is free: lay the terms out in qubit-disjoint layers
    sweep = [j for group in groups for layer in parallel_layers(labels, group) for j in layer]
    scale = 1.0 if order == 1 else 0.5
    passes = [sweep] if order == 1 else [sweep, sweep[::-1]]
    for indices in passes:
        for j in indices:
            qc.append(
                evolution_gate(SparsePauliOp(labels[j]), scale * params[j]), range(num_qubits)
            )
    return qc, params


def trotter_step(
    labels: Sequence[str],
    weights: Sequence[float],
    dt: float,
    num_qubits: int,
    order: int,
    groups: Sequence[Sequence[int]] | None = None,
) -> QuantumCircuit:
    """One product-formula step ∏_g exp(−i H_g δt), H_g = Σ_{j∈g} w_j P_j over the commuting
    ``groups`` (default :func:`commuting_groups`), as one ``PauliEvolutionGate`` per term on
    the qubits it acts on: group by group, each group in qubit-disjoint layers
    (:func:`parallel_layers`); ``order`` 2 sweeps forward with δt/2, then backward. Terms of
    weight 0 are left out.

    One gate per term is how a product formula is written, and what every compiler reads
    alike; qcompile's pipeline merges adjacent commuting rotations again and synthesizes each
    merged group as one network (:mod:`qcompile.passes.pauli_evolution`).
    """
    if order not in (1, 2):
        raise ValueError("order must be 1 or 2")
    groups = commuting_groups(labels) if groups is None else groups
    sweep = [j for group in groups for layer in parallel_layers(labels, group) for j in layer]
    sweep = [j for j in sweep if weights[j] != 0]
    scale = 1.0 if order == 1 else 0.5
    qc = QuantumCircuit(num_qubits, name="trotter_step")
    for j in sweep if order == 1 else [*sweep, *sweep[::-1]]:
        letters = labels[j][::-1]  # little-endian: letters[q] acts on qubit q
        support = [q for q in range(num_qubits) if letters[q] != "I"]
        op = SparsePauliOp("".join(letters[q] for q in support)[::-1], float(weights[j]))
        qc.append(evolution_gate(op, scale * dt), support)
    return qc


def _norm(matrix: np.ndarray) -> float:
    return float(np.linalg.norm(matrix, 2))


def splitting_error_bound(group_matrices: Sequence[np.ndarray], dt: float, order: int) -> float:
    """Commutator bound on ‖e^{−iHδt} − product formula‖ for one step (see module doc)."""
    h = [np.asarray(m) for m in group_matrices]
    if len(h) < 2:
        return 0.0
    comm = lambda a, b: a @ b - b @ a  # noqa: E731
    if order == 1:
        return (
            0.5
            * dt**2
            * sum(_norm(comm(h[i], h[j])) for i in range(len(h)) for j in range(i + 1, len(h)))
        )
    bound = 0.0
    for g in range(len(h) - 1):
        rest = sum(h[g + 1 :])
        bound += dt**3 / 12 * _norm(comm(rest, comm(rest, h[g])))
        bound += dt**3 / 24 * _norm(comm(h[g], comm(h[g], rest)))
    return bound
