"""Qubit states: parsing, preparation circuits (pure and purified), Uhlmann fidelity."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix, partial_trace, random_density_matrix, state_fidelity

from qcompile.errors import InvalidParameter
from qcompile.states.qubit_state import bloch_fidelity, bloch_vector, parse_qubit_state


@pytest.mark.parametrize(
    "text,bloch",
    [
        ("0", (0, 0, 1)),
        ("1", (0, 0, -1)),
        ("+", (1, 0, 0)),
        ("-", (-1, 0, 0)),
        ("+i", (0, 1, 0)),
        ("-i", (0, -1, 0)),
        ("0.1, -0.2, 0.3", (0.1, -0.2, 0.3)),
        ("polar:2.2,0", (math.sin(2.2), 0, math.cos(2.2))),
        ("polar:1.5707963267948966,1.5707963267948966,0.5", (0, 0.5, 0)),
    ],
)
def test_parse(text, bloch):
    assert np.allclose(parse_qubit_state(text).bloch, bloch, atol=1e-12)


@pytest.mark.parametrize(
    "text",
    # a negative polar radius ran before issue 32 (the state silently flipped through 0)
    ["foo", "1,2", "0.9,0.9,0", "polar:1", "nan,0,0", "", "polar:1,0,-0.5", "polar:1,0,1.5"],
)
def test_malformed_state_names_the_parameter(text):
    with pytest.raises(InvalidParameter) as info:
        parse_qubit_state(text, "reservoir_state")
    assert info.value.name == "reservoir_state"
    assert "allowed" in str(info.value)


@pytest.mark.parametrize(
    "bloch",
    [(0, 0, 1), (0.6, 0, 0.8), (-0.3, 0.9, 0.3162277660168379), (0.2, -0.3, 0.1), (0, 0, 0)],
)
def test_preparation_circuit_prepares_the_state(bloch):
    state = parse_qubit_state(list(bloch))
    qc = QuantumCircuit(2)
    state.prepare(qc, 0, purifier=None if state.is_pure else 1)
    rho = partial_trace(DensityMatrix(qc), [1]).data
    assert np.allclose(rho, state.density_matrix(), atol=1e-12)
    assert np.allclose(bloch_vector(rho), bloch, atol=1e-12)


def test_bloch_fidelity_is_uhlmann_fidelity():
    """Closed form for qubits vs qiskit's (tr√(√ρσ√ρ))² on random mixed states."""
    rng = np.random.default_rng(11)
    for _ in range(50):
        rho = random_density_matrix(2, seed=int(rng.integers(1 << 30)))
        sigma = random_density_matrix(2, seed=int(rng.integers(1 << 30)))
        expected = state_fidelity(rho, sigma, validate=False)
        got = bloch_fidelity(bloch_vector(rho.data), bloch_vector(sigma.data))
        assert math.isclose(got, expected, abs_tol=1e-9)
