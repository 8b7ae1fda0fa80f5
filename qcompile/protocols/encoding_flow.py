"""The data flow of the two-qubit encodings of spec 001 (dissipative qubits) as the hooks of
qcompile's one runner on its states path (:mod:`qcompile.run.state_pipeline`).

For every encoding (AF, SYMM, NSYMM, custom codes over their 6 logical octahedron states; the
physical qubit over the 28-state ensemble of spec §4):

* :func:`reference`: the dynamical map of the chosen solver (Lindblad or HEOM: the
  ``propagators`` solver) applied to every initial state on the protocol's time grid;
* :func:`lower_evolution`: one :class:`EncodedEvolution` per encoded state — preparation,
  ``collisions`` exact bath collisions with reset ancillas (the eigenbasis cascade channel of
  :mod:`qcompile.lowering.cascade_channel`), the readout unitary —, checkpointed after
  every collision; its ideal states are the backend's exact ones (the ``ideal`` block), its
  prefixes are tomographed at every ``device_every``-th collision (``observables``, with
  :data:`BOOTSTRAP` resamples per state for the standard errors);
* :func:`estimate_states`: the figures of merit of
  :func:`qcompile.protocols.two_qubit_codes.encoding_observables` from those states.

The backend's own noise acts as a second bath: the device block shows which encoding
protects the logical qubit best on that device.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit

from qcompile.errors import InvalidParameter
from qcompile.protocols.two_qubit_codes import encoding_observables, two_qubit_ensemble

__all__ = [
    "BOOTSTRAP",
    "DEFAULT_COLLISIONS",
    "EncodedEvolution",
    "circuit_info",
    "estimate_states",
    "lower_evolution",
    "measured_qubits",
    "reference",
    "resolve_options",
    "run_parameters",
    "tomographed_times",
]

DEFAULT_COLLISIONS = 12
#: Bootstrap resamples per tomographed state.
BOOTSTRAP = 100
LOWERING = "eigenbasis cascade channel (qcompile.lowering.cascade_channel)"
_HEOM = ("depth", "exponents", "fit_window")


def ensemble(encoding) -> list[np.ndarray]:
    """The initial states an encoding is averaged over."""
    return two_qubit_ensemble() if encoding.is_physical else encoding.code_states()


@dataclass(frozen=True)
class EncodedEvolution:
    """One encoded state ``psi`` through ``collisions`` collisions of ``collision_dt``: the
    whole circuit (with the readout unitary), the instructions done after each collision
    (keyed by time), and the circuit of each time (:meth:`prefix`: the circuit up to the
    checkpoint, then :attr:`readout`); ``decoding`` is the readout unitary the ideal states
    get (the change of basis the prefixes end with)."""

    protocol: Any
    psi: np.ndarray
    collisions: int
    collision_dt: float

    @cached_property
    def circuit(self) -> QuantumCircuit:
        return self.protocol.circuit(self.psi, self.collisions, self.collision_dt)

    @cached_property
    def checkpoints(self) -> dict[float, int]:
        per_step = (len(self.circuit.data) - 2) // self.collisions  # preparation, readout
        return {k * self.collision_dt: 1 + k * per_step for k in range(self.collisions + 1)}

    @cached_property
    def decoding(self) -> np.ndarray:
        return self.protocol.readout_unitary()

    @cached_property
    def readout(self) -> QuantumCircuit:
        """What every prefix ends with after its checkpoint: the change of basis back to
        the lab frame (the circuit's last instruction)."""
        readout = self.circuit.copy_empty_like(name="readout")
        readout.append(self.circuit.data[-1])
        return readout

    def prefix(self, time: float) -> QuantumCircuit:
        """The state after the collisions up to ``time``, read out."""
        return self.protocol.circuit(self.psi, round(time / self.collision_dt), self.collision_dt)


def resolve_options(
    protocol, options: Mapping[str, Any], solvers: Mapping[str, Callable]
) -> dict[str, Any]:
    """``solver``, ``heom`` (a mapping, or flat ``heom_depth``, ``heom_exponents``,
    ``heom_fit_window``; checked by the ``check_propagators`` solver: memory, a finite
    cutoff) and ``collisions`` (1..400, default :data:`DEFAULT_COLLISIONS`); any other
    option is refused by name."""
    rest = dict(options)
    heom = dict(rest.pop("heom", None) or {})
    heom.update({n: rest.pop(f"heom_{n}") for n in _HEOM if rest.get(f"heom_{n}") is not None})
    solver = rest.pop("solver", None) or "lindblad"
    collisions = rest.pop("collisions", None)
    collisions = DEFAULT_COLLISIONS if collisions is None else collisions
    for name, value in rest.items():
        raise InvalidParameter(name, value, "a run option: solver, heom_depth, heom_exponents, "
                               "heom_fit_window, collisions, device_every")  # fmt: skip
    heom = solvers["check_propagators"](protocol, solver, heom or None)
    if isinstance(collisions, bool) or not isinstance(collisions, (int, float)) \
            or int(collisions) != collisions or not 1 <= collisions <= 400:  # fmt: skip
        raise InvalidParameter("collisions", collisions, "an integer 1 <= collisions <= 400")
    return {"solver": solver, "heom": heom, "collisions": int(collisions)}


def run_parameters(protocol, options: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON parameter block: the protocol's parameters, the solver and the collisions."""
    return protocol.parameters() | {"solver": options["solver"],
                                    "collisions": options["collisions"]}  # fmt: skip


def measured_qubits(protocol) -> list[int]:
    """The two system qubits (the ancillas are reset after every collision)."""
    return [0, 1]


def _apply(supers: np.ndarray, psi: np.ndarray) -> list[np.ndarray]:
    vec = np.outer(psi, psi.conj()).reshape(-1, order="F")
    return [(s @ vec).reshape(4, 4, order="F") for s in supers]


def _listed(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: np.asarray(v).tolist() for k, v in values.items()}


def reference(protocol, solvers: Mapping[str, Callable], report, options) -> dict[str, Any]:
    """Every encoding's figures of merit on the protocol's time grid from the reference maps
    S(t) (``solvers["propagators"]``), with the solver and what it was computed with."""
    times = protocol.times()
    solver = options["solver"]
    stage = f"reference ({solver})"
    report(stage, 0, 1)
    supers, info = solvers["propagators"](
        protocol, times, solver=solver, heom=options["heom"],
        progress=lambda done, total: report(stage, done, total),
    )  # fmt: skip
    block: dict[str, Any] = {"times": [float(t) for t in times]}
    for e in protocol.encodings:
        block[e.name] = _listed(encoding_observables(
            e, lambda psi: _apply(supers, psi), lambda psi: protocol.closed_states(psi, times),
            squared=protocol.squared,
        ))  # fmt: skip
    block["solver"] = solver
    block["solver_info"] = {k: (list(v) if isinstance(v, tuple) else v) for k, v in info.items()}
    return block


def lower_evolution(protocol, options: Mapping[str, Any]) -> dict[tuple[int, int], Any]:
    """One :class:`EncodedEvolution` per (encoding, initial state), in that order."""
    collisions = options["collisions"]
    dt = protocol.t_max / collisions
    return {(e_index, s_index): EncodedEvolution(protocol, psi, collisions, dt)
            for e_index, encoding in enumerate(protocol.encodings)
            for s_index, psi in enumerate(ensemble(encoding))}  # fmt: skip


def circuit_info(protocol, options: Mapping[str, Any]) -> dict[str, Any]:
    """What the ``circuit`` block records of the lowering."""
    collisions = options["collisions"]
    return {"collisions": collisions, "collision_dt": protocol.t_max / collisions,
            "qubits": protocol.num_qubits, "lowering": LOWERING}  # fmt: skip


def tomographed_times(protocol, times: Sequence[float], device_every: int) -> list[float]:
    """Every ``device_every``-th collision and the last (not the prepared state)."""
    last = len(times) - 1
    return [times[k] for k in sorted(set(range(device_every, last + 1, device_every)) | {last})]


def estimate_states(
    protocol, times: Sequence[float], states: Mapping[tuple[int, int], Sequence[np.ndarray]]
) -> dict[str, Any]:
    """Each encoding's figures of merit at ``times`` from the states of its ensemble
    (``states[(encoding index, state index)]``, one per time)."""
    out: dict[str, Any] = {}
    for e_index, encoding in enumerate(protocol.encodings):
        members = ensemble(encoding)

        def evolve(psi, e_index=e_index, members=members):
            s_index = next(i for i, s in enumerate(members) if np.allclose(s, psi))
            return list(states[(e_index, s_index)])

        out[encoding.name] = _listed(encoding_observables(
            encoding, evolve, lambda psi: protocol.closed_states(psi, times),
            squared=protocol.squared,
        ))  # fmt: skip
    return out
