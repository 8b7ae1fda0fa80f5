r"""Zero-noise extrapolation (ZNE) of tomography estimates by global unitary folding.

Each compiled circuit C = M·U (U its gates, M its final measurements) also runs as
M·U(U†U)^n — the same unitary with the noise of 2n + 1 copies of U (global folding, Giurdanu
et al., IEEE QCE 2020, as mitiq's ``fold_global``) — at odd scale factors λ = 1 + 2n. A
collision circuit that resets its ancilla mid-circuit (the Ising memory) is folded segment by
segment: each unitary stretch S between resets becomes S(S†S)^n. U† is
translated to the device's basis (``sx``† is not native), barriers keep every copy. Each
expectation value ⟨σ⟩ measured at the scales is extrapolated to λ = 0 by Richardson's rule,

.. math:: E(0) = \sum_i w_i E(\lambda_i), \qquad
          w_i = \prod_{j \ne i} \frac{\lambda_j}{\lambda_j - \lambda_i},

the exact value at 0 of the polynomial through the points. The weights apply to every
bootstrap resample of the counts, so the standard errors include the extrapolation's own
variance (Σ w_i² times the shot variance). Bloch vectors are shrunk back onto the ball after
(:func:`extrapolate`), tomographed density matrices projected onto the nearest state
(:func:`extrapolate_states`: the one runner's states path). Done here, not with mitiq:
mitiq folds a Qiskit circuit by converting it through Cirq (a large dependency, and the ISA
circuit would have to be re-translated after), and its Richardson factory is the one line
above; runtime's ZNE exists for the Estimator, not for the counts of a tomography Sampler job.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.circuit.equivalence_library import SessionEquivalenceLibrary
from qiskit.transpiler import PassManager
from qiskit.transpiler.passes import BasisTranslator

from qcompile.errors import InvalidParameter
from qcompile.states.tomography import (
    BlochEstimate,
    StateEstimate,
    closest_state,
    project_to_ball,
)

__all__ = [
    "MAX_SCALE",
    "check_scale_factors",
    "check_zne",
    "extrapolate",
    "extrapolate_states",
    "extrapolate_value",
    "fold",
    "folding_of",
    "richardson_weights",
    "zne_record",
]

MAX_SCALE = 9
_NON_UNITARY = ("reset", "measure")


def check_scale_factors(scales: Sequence[int] | str) -> tuple[int, ...]:
    """Odd integers 1 = λ_1 < λ_2 < … ≤ 9, at least two (ZNE needs a slope); text such as
    ``"1,3,5"`` (a sweep's ``--option zne=1,3,5``) is read first."""
    if isinstance(scales, str):
        try:
            scales = [int(v) for v in scales.split(",")]
        except ValueError:
            raise InvalidParameter(
                "zne", scales, "odd integers separated by commas, e.g. 1,3,5"
            ) from None
    elif isinstance(scales, int):
        scales = [scales]
    values = tuple(scales)
    if (
        len(values) < 2
        or values[0] != 1
        or any(not isinstance(v, int) or v % 2 == 0 or v > MAX_SCALE for v in values)
        or list(values) != sorted(set(values))
    ):
        raise InvalidParameter(
            "zne", ",".join(map(str, values)),
            f"increasing odd scale factors starting at 1, at most {MAX_SCALE}, e.g. 1,3,5",
        )  # fmt: skip
    return values


def check_zne(zne, backend) -> tuple[int, ...] | None:
    """``zne`` read and checked (:func:`check_scale_factors`) for a run on ``backend``, before
    any work: ``None`` stays ``None``; a backend without device noise is refused."""
    if zne is None:
        return None
    scales = check_scale_factors(zne)
    if not (getattr(backend, "runs_circuits", True) and backend.noisy):
        raise InvalidParameter(
            "zne", ",".join(map(str, scales)), "only on a device-noise backend (aer:<fake "
            "backend> or ibm:...): there is no noise to extrapolate away"
        )  # fmt: skip
    return scales


#: How :func:`fold` folded, as a result records it.
GLOBAL_FOLDING = "global, U(U^dagger U)^n"
SEGMENT_FOLDING = "each unitary stretch between resets, S(S^dagger S)^n"


def zne_record(
    scales: Sequence[int], folding: str, raw: dict, by_scale: Sequence[float] | None = None
) -> dict:
    """The ``mitigation["zne"]`` block of a result: scale factors, Richardson weights, how the
    circuits were folded, the shot overhead, the ``raw`` (scale-1) observables and, for a
    single value, its estimate at every scale."""
    record = {
        "scale_factors": list(scales),
        "weights": richardson_weights(scales).tolist(),
        "folding": folding,
        "extrapolation": "richardson",
        "shots_overhead": len(scales),
        "raw": raw,
    }
    if by_scale is not None:
        record["by_scale"] = list(by_scale)
    return record


def richardson_weights(scales: Sequence[float]) -> np.ndarray:
    """w_i with Σ w_i E(λ_i) = the value at λ = 0 of the polynomial through the points."""
    lam = np.asarray(scales, dtype=float)
    return np.array(
        [np.prod([lam[j] / (lam[j] - lam[i]) for j in range(len(lam)) if j != i])
         for i in range(len(lam))]
    )  # fmt: skip


def _split(circuit: QuantumCircuit) -> tuple[QuantumCircuit, list]:
    """The gates before the final measurements, and those measurements."""
    cut = len(circuit.data)
    while cut and circuit.data[cut - 1].operation.name in ("measure", "barrier"):
        cut -= 1
    body = circuit.copy_empty_like()
    for instruction in circuit.data[:cut]:
        body.append(instruction)
    return body, list(circuit.data[cut:])


def _empty(body: QuantumCircuit) -> QuantumCircuit:
    segment = body.copy_empty_like()
    segment.global_phase = 0  # the phase stays with the folded circuit, once
    return segment


def _segments(body: QuantumCircuit) -> list[QuantumCircuit | object]:
    """``body`` cut at its non-unitary operations (a mid-circuit ``reset`` or ``measure``):
    the unitary segments as circuits, the cuts as the instructions themselves."""
    parts: list[QuantumCircuit | object] = []
    segment = _empty(body)
    for instruction in body.data:
        if instruction.operation.name in _NON_UNITARY:
            if segment.data:
                parts.append(segment)
                segment = _empty(body)
            parts.append(instruction)
        else:
            segment.append(instruction)
    if segment.data:
        parts.append(segment)
    return parts


def fold(circuit: QuantumCircuit, scale: int, target=None) -> QuantumCircuit:
    """``circuit`` with its gates U replaced by U(U†U)^((scale−1)/2); U† in ``target``'s
    basis when a target (or a backend with one) is given. A circuit with mid-circuit resets
    or measurements (a collision model's reused ancilla) has each unitary segment between
    them folded so: every gate's noise is scaled by λ, the resets are kept once."""
    if scale == 1:
        return circuit
    body, measurements = _split(circuit)
    target = getattr(target, "target", target)
    translator = None
    if target is not None:
        translator = BasisTranslator(SessionEquivalenceLibrary, list(target.operation_names))
    folded = body.copy_empty_like(name=f"{circuit.name}:zne{scale}")
    for part in _segments(body):
        if not isinstance(part, QuantumCircuit):
            folded.append(part)
            continue
        inverse = part.inverse()
        if translator is not None:
            inverse = PassManager([translator]).run(inverse)
        folded.compose(part, inplace=True)
        for _ in range((scale - 1) // 2):
            folded.barrier()
            folded.compose(inverse, inplace=True)
            folded.barrier()
            folded.compose(part, inplace=True)
    for instruction in measurements:
        folded.append(instruction)
    return folded


def extrapolate_value(
    values: Sequence[float], errors: Sequence[float], scales: tuple[int, ...]
) -> tuple[float, float]:
    """Richardson extrapolation of one expectation value measured at ``scales`` with
    independent standard errors: (Σ w_i E_i, √(Σ w_i² σ_i²))."""
    weights = richardson_weights(scales)
    value = float(np.dot(weights, values))
    error = float(np.sqrt(np.dot(weights**2, np.square(errors))))
    return value, error


def extrapolate(
    by_scale: list[list[BlochEstimate]], scales: tuple[int, ...]
) -> list[BlochEstimate]:
    """Richardson extrapolation of every Bloch vector and every bootstrap resample (so the
    spread includes the extrapolation's variance), shrunk back onto the Bloch ball."""
    weights = richardson_weights(scales)
    out = []
    for task in zip(*by_scale, strict=True):
        mean = sum(w * e.mean for w, e in zip(weights, task, strict=True))
        samples = sum(w * e.samples for w, e in zip(weights, task, strict=True))
        out.append(BlochEstimate(project_to_ball(mean), project_to_ball(samples), task[0].shots))
    return out


def extrapolate_states(
    by_scale: list[list[StateEstimate]], scales: tuple[int, ...]
) -> list[StateEstimate]:
    """Richardson extrapolation of every density matrix and every bootstrap resample (the
    b-th of each scale together, so the spread includes the extrapolation's variance), each
    projected back onto the nearest state (:func:`~qcompile.states.tomography.closest_state`):
    ρ(0) = Σ w_i ρ(λ_i) is Hermitian with unit trace, but not always positive."""
    weights = richardson_weights(scales)
    out = []
    for group in zip(*by_scale, strict=True):
        mean = closest_state(sum(w * e.mean for w, e in zip(weights, group, strict=True)))
        resamples = min(len(e.samples) for e in group)
        samples = [closest_state(sum(w * e.samples[b] for w, e in zip(weights, group,
                                                                     strict=True)))
                   for b in range(resamples)]  # fmt: skip
        out.append(StateEstimate(mean, samples, group[0].shots))
    return out


def folding_of(circuits: Sequence[QuantumCircuit]) -> str:
    """How :func:`fold` folds these circuits, as a result records it: each stretch between
    resets where any circuit resets mid-circuit, else globally."""
    body_ops = (i.operation.name for c in circuits for i in c.data)
    return SEGMENT_FOLDING if "reset" in body_ops else GLOBAL_FOLDING
