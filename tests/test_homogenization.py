"""Homogenization (spec 000 §2): the spec's tables, map vs circuit, convergence, the model."""

from __future__ import annotations

import math

import numpy as np
import pytest
import qutip
from conftest import SPEC_XI
from qiskit.quantum_info import DensityMatrix, partial_trace

from qcompile.errors import InvalidParameter
from qcompile.protocols import homogenization

# Spec 000 §2 reference table: F(ρ_S^(k), ξ), ρ_S^(0) = |0⟩, ξ = ry(2.2)|0⟩.
SPEC_TABLE = {
    0.1: {0: 0.205749, 1: 0.225186, 2: 0.244147, 5: 0.298291, 10: 0.380051},
    0.2: {0: 0.205749, 1: 0.281594, 2: 0.350195, 5: 0.519138, 10: 0.708872},
    0.5: {0: 0.205749, 1: 0.602875, 2: 0.801437, 5: 0.975180, 10: 0.999224},
}
SPEC_RESERVOIR = [0.924156, 0.931398, 0.937949, 0.943875]  # α = 0.2, N = 4


@pytest.mark.parametrize("alpha", sorted(SPEC_TABLE))
def test_spec_fidelity_table(alpha):
    h = homogenization(alpha=alpha, reservoir=10, reservoir_state=SPEC_XI)
    fidelity = h.reference()["system_fidelity"]
    for k, expected in SPEC_TABLE[alpha].items():
        assert fidelity[k] == pytest.approx(expected, abs=1e-6)


def test_spec_reservoir_fidelities():
    h = homogenization(alpha=0.2, reservoir=4, reservoir_state=SPEC_XI)
    assert h.reference()["reservoir_fidelity"] == pytest.approx(SPEC_RESERVOIR, abs=1e-6)


def test_eta_gives_the_same_protocol():
    a = homogenization(alpha=0.2, reservoir=3)
    b = homogenization(eta=-math.pi * 0.2 / 2, reservoir=3)
    assert b.alpha == pytest.approx(0.2)
    assert np.allclose(a.reference()["system_fidelity"], b.reference()["system_fidelity"])


@pytest.mark.parametrize(
    "input_state,reservoir_state",
    [("0", SPEC_XI), ("0.3,0.2,-0.1", "0.5,-0.4,0.6"), ("-i", "0,0,0.2")],
)
def test_map_equals_density_matrix_simulation_of_the_circuit(input_state, reservoir_state):
    """Eqs. (4)-(5) against qiskit.quantum_info's density matrix of the paper's circuit."""
    h = homogenization(
        alpha=0.37, reservoir=3, input_state=input_state, reservoir_state=reservoir_state
    )
    system, reservoir = h.iterated_map()
    for k in range(h.collisions + 1):
        rho = DensityMatrix(h.circuit(k).decompose("swap_power"))
        others = [q for q in range(h.num_qubits) if q != 0]
        assert np.allclose(partial_trace(rho, others).data, system[k], atol=1e-10)
    final = DensityMatrix(h.circuit())
    for j in range(1, h.reservoir + 1):
        others = [q for q in range(h.num_qubits) if q != j]
        assert np.allclose(partial_trace(final, others).data, reservoir[j - 1], atol=1e-10)


def test_contraction_per_step():
    """Spec 000 §2: trace distance to ξ shrinks per step by a factor in [cos²η, |cos η|]."""
    h = homogenization(
        alpha=0.3, reservoir=12, input_state="0.1,0.5,-0.7", reservoir_state="polar:0.9,0.4"
    )
    xi = h.reservoir_state.density_matrix()
    system, _ = h.iterated_map()
    dist = [0.5 * np.abs(np.linalg.eigvalsh(r - xi)).sum() for r in system]
    c = math.cos(h.eta)
    for before, after in zip(dist, dist[1:], strict=False):
        assert c * c * before - 1e-12 <= after <= abs(c) * before + 1e-12
    assert h.reference()["system_fidelity"][-1] > h.reference()["system_fidelity"][0]


def _qutip_states(h, times):
    system = h.open_system()
    dims = [list(system.dims), list(system.dims)]
    terms = [[qutip.Qobj(t.operator, dims=dims), t.coefficient] for t in system.time_dependent]
    rho0 = qutip.Qobj(system.initial_density_matrix(), dims=dims)
    result = qutip.mesolve(
        terms,
        rho0,
        times,
        options={"atol": 1e-12, "rtol": 1e-10, "max_step": 0.01, "nsteps": 10**6},
    )
    return result.states


def test_open_system_matches_rounds_reference():
    """The OpenSystem's exchange Hamiltonian under QuTiP reproduces the exact circuit states,
    including a second round where the iterated map no longer applies."""
    h = homogenization(
        alpha=0.4, reservoir=2, rounds=2, input_state="1", reservoir_state="polar:1.1,0.3"
    )
    system, reservoir = h.reference_states()
    # the state after k collisions is the state at the end of the k-th unit time window
    ends = [0.0] + [k + 1 - 1e-9 for k in range(h.collisions)]
    states = _qutip_states(h, ends)
    for k, state in enumerate(states):
        assert np.allclose(state.ptrace(0).full(), system[k], atol=2e-6)
    for j in range(h.reservoir):
        assert np.allclose(states[-1].ptrace(1 + j).full(), reservoir[j], atol=2e-6)


@pytest.mark.parametrize(
    "kwargs,param",
    [
        ({"alpha": 0.1, "eta": 0.2}, "alpha"),
        ({}, "alpha"),
        ({"alpha": 0.1, "reservoir": 0}, "reservoir"),
        ({"alpha": 0.1, "reservoir": 2.5}, "reservoir"),
        ({"alpha": 0.1, "rounds": 0}, "rounds"),
        ({"alpha": float("inf")}, "alpha"),
        ({"eta": float("nan")}, "eta"),
        ({"alpha": 0.1, "input_state": "2,0,0"}, "input_state"),
        ({"alpha": 0.1, "reservoir_state": "up"}, "reservoir_state"),
    ],
)
def test_bad_parameters(kwargs, param):
    with pytest.raises(InvalidParameter) as info:
        homogenization(**kwargs)
    assert info.value.name == param


def test_register_size_check_names_reservoir():
    h = homogenization(alpha=0.1, reservoir=10, reservoir_state="0,0,0.5")  # mixed: purifiers
    assert h.num_qubits == 21
    h.check_fits(21, "here")
    with pytest.raises(InvalidParameter, match=r"N <= 9 on here"):
        h.check_fits(20, "here")
