"""Single-qubit tomography: estimates and bootstrap errors against the binomial law."""

from __future__ import annotations

import numpy as np
from qiskit.quantum_info import DensityMatrix, Pauli, Statevector

from qcompile.protocols import homogenization
from qcompile.states.qubit_state import bloch_fidelity, parse_qubit_state
from qcompile.states.tomography import TomographyTask, estimate_bloch, measurement_circuits


def _sample_counts(circuit, shots, rng):
    probs = Statevector(circuit.remove_final_measurements(inplace=False)).probabilities_dict()
    keys = list(probs)
    draws = rng.multinomial(shots, [probs[k] for k in keys])
    n = circuit.num_clbits
    # the circuits measure qubits (0, 1, ...) into clbits (0, 1, ...) in order; the rest
    # (purifiers) are marginalised
    counts: dict[str, int] = {}
    for key, c in zip(keys, draws, strict=True):
        counts[key[-n:]] = counts.get(key[-n:], 0) + int(c)
    return counts


def test_estimates_are_unbiased_within_their_errors():
    rng = np.random.default_rng(5)
    h = homogenization(
        alpha=0.3, reservoir=2, input_state="0.2,0.6,-0.7", reservoir_state="polar:1.0,2.0"
    )
    task = TomographyTask("final", h.circuit(), (0, 1, 2))
    shots = 20000
    counts = [_sample_counts(c, shots, rng) for c in measurement_circuits(task)]
    estimate = estimate_bloch(counts, 3, rng=rng)
    system, reservoir = h.iterated_map()
    exact = np.array(
        [
            DensityMatrix(r).expectation_value(Pauli(p)).real
            for r in [system[-1], *reservoir]
            for p in ("X", "Y", "Z")
        ]
    ).reshape(3, 3)
    sigma = np.sqrt((1 - exact**2) / shots)  # binomial standard error of each ⟨σ⟩
    assert np.all(np.abs(estimate.mean - exact) < 5 * sigma + 1e-12)
    boot = estimate.samples.std(axis=0, ddof=1)
    assert np.allclose(boot, sigma, rtol=0.2, atol=2e-4)


def test_estimate_outside_ball_is_shrunk_onto_it():
    counts = [{"0": 1000}, {"0": 500, "1": 500}, {"0": 1000}]  # r = (1, 0, 1), |r| > 1
    estimate = estimate_bloch(counts, 1)
    assert np.isclose(np.linalg.norm(estimate.mean[0]), 1.0)
    xi = np.array(parse_qubit_state("polar:0.7853981633974483,0").bloch)
    assert np.isclose(bloch_fidelity(estimate.mean[0], xi), 1.0)
