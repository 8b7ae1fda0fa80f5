"""Resynthesize the Clifford blocks of a circuit (issue 35, item 2).

A long run of Clifford gates — a random Clifford circuit, the CX/H/S skeleton of an error
correction round — is one element of the Clifford group on its qubits, which Qiskit's greedy
Clifford synthesis (Bravyi et al., shipped as the ``greedy`` plugin of ``HighLevelSynthesis``)
writes with O(n²) CX whatever the run's length, where peephole optimisation only shortens it
locally: an 8-qubit random Clifford circuit of 200 gates, 93 CX after qcompile's all-to-all
pipeline, is 30 once resynthesized. :func:`resynthesize_cliffords` collects maximal Clifford
blocks (``CollectCliffords``; an RZ by a multiple of π/2 counts as the Clifford it is) and
synthesizes each greedily. The caller keeps the result only where it saves enough two-qubit
gates (:func:`~qcompile.passes.logical_optimization.best_alternatives`). Preserves the
circuit's operator up to a global phase (a Clifford tableau carries none; a compiled circuit
is run, not controlled).
"""

from __future__ import annotations

import math

from qiskit.circuit import QuantumCircuit
from qiskit.circuit.library import IGate, SdgGate, SGate, ZGate
from qiskit.transpiler import PassManager
from qiskit.transpiler.passes import CollectCliffords, HighLevelSynthesis, HLSConfig

__all__ = ["CLIFFORD_NAMES", "resynthesize_cliffords", "worth_resynthesizing"]

#: Gates taken as Clifford by name (with ``rz`` by multiples of π/2, see :func:`_named`).
CLIFFORD_NAMES = frozenset(
    {"id", "x", "y", "z", "h", "s", "sdg", "sx", "sxdg", "cx", "cz", "cy", "swap", "iswap",
     "ecr", "dcx"}
)  # fmt: skip
_TWO_QUBIT = frozenset({"cx", "cz", "cy", "swap", "iswap", "ecr", "dcx"})
_QUARTER_TURNS = (IGate, SGate, ZGate, SdgGate)


def _quarter_turns(angle: object) -> int | None:
    """k where ``angle`` = kπ/2 (mod 2π), else ``None`` (a symbolic angle too)."""
    try:
        k = float(angle) / (math.pi / 2)
    except TypeError:
        return None
    return round(k) % 4 if abs(k - round(k)) < 1e-9 else None


def _named(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` with every RZ(kπ/2) as the named gate it is, S^k, its phase e^{−ikπ/4}
    kept."""
    out = circuit.copy_empty_like()
    for inst in circuit.data:
        op = inst.operation
        k = _quarter_turns(op.params[0]) if op.name == "rz" else None
        if k is None:
            out._append(inst)
            continue
        out.global_phase -= float(op.params[0]) / 2
        out._append(inst.replace(operation=_QUARTER_TURNS[k]()))
    return out


def worth_resynthesizing(circuit: QuantumCircuit) -> bool:
    """Whether ``circuit``'s Clifford runs are long enough for resynthesis to pay: its
    Clifford two-qubit gates, shared out over the runs its other operations separate, exceed
    what greedy synthesis needs for the circuit's width (2n per run). One pass over the
    circuit; most protocol circuits (rotations by arbitrary angles everywhere) stop here."""
    clifford, breaks = 0, 0
    for inst in circuit.data:
        op = inst.operation
        if op.name in _TWO_QUBIT:
            clifford += 1
        elif op.name == "barrier" or op.name in CLIFFORD_NAMES:
            continue
        elif not (op.name == "rz" and _quarter_turns(op.params[0]) is not None):
            breaks += 1
    return clifford > 2 * circuit.num_qubits * (breaks + 1)


def resynthesize_cliffords(circuit: QuantumCircuit) -> QuantumCircuit:
    """``circuit`` with each maximal Clifford block synthesized by Qiskit's greedy method
    (its SWAPs written as three CX)."""
    manager = PassManager(
        [
            CollectCliffords(min_block_size=2, split_blocks=True),
            HighLevelSynthesis(hls_config=HLSConfig(clifford=["greedy"])),
        ]
    )
    # its SWAPs as CX: a compilation that elided them would relabel the circuit's qubits
    return manager.run(_named(circuit)).decompose(gates_to_decompose=["swap"])
