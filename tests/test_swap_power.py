"""(SWAP)^α (spec 000 §1): matrix, the paper's 4-CX definition, group law, compiled cost."""

from __future__ import annotations

import math

import numpy as np
import pytest
from qiskit import QuantumCircuit
from qiskit.circuit import Parameter
from qiskit.circuit.library import CXGate, RZGate, SXGate, XGate
from qiskit.quantum_info import Operator
from qiskit.transpiler import CouplingMap, Target

from qcompile import SwapPowerGate, compile_circuits, partial_swap
from qcompile.lowering.swap_power import (
    alpha_from_eta,
    eta_from_alpha,
    partial_swap_matrix,
    swap_power_matrix,
)

ALPHAS = [0.0, 1.0, 0.1, 0.5, 0.37, -0.3, -1.0, 1.7, 2.0, 3.25]
SWAP = np.eye(4)[[0, 2, 1, 3]]


def bell_form(alpha: float) -> np.ndarray:
    """Eq. (8) built from Bell projectors: identity on the triplet, e^{iπα} on the singlet."""
    basis = np.eye(4)
    singlet = (basis[1] - basis[2]) / math.sqrt(2)
    triplets = [
        (basis[0] + basis[3]) / math.sqrt(2),
        (basis[0] - basis[3]) / math.sqrt(2),
        (basis[1] + basis[2]) / math.sqrt(2),
    ]
    out = sum(np.outer(v, v) for v in triplets).astype(complex)
    return out + np.exp(1j * math.pi * alpha) * np.outer(singlet, singlet)


def equal_up_to_phase(a: np.ndarray, b: np.ndarray, atol: float = 1e-12) -> bool:
    k = np.unravel_index(np.argmax(np.abs(b)), b.shape)
    phase = a[k] / b[k]
    return bool(np.isclose(abs(phase), 1, atol=atol) and np.allclose(a, phase * b, atol=atol))


@pytest.mark.parametrize("alpha", ALPHAS)
def test_matrix_is_bell_form_of_eq8(alpha):
    assert np.allclose(Operator(SwapPowerGate(alpha)).data, bell_form(alpha), atol=1e-14)


@pytest.mark.parametrize("alpha", ALPHAS)
def test_paper_circuit_equals_matrix_up_to_global_phase(alpha):
    definition = Operator(SwapPowerGate(alpha).definition).data
    assert equal_up_to_phase(definition, bell_form(alpha))


def test_special_values():
    assert np.allclose(swap_power_matrix(0), np.eye(4))
    assert np.allclose(swap_power_matrix(1), SWAP)
    assert np.allclose(swap_power_matrix(2), np.eye(4))  # SWAP² = 1
    # The Heisenberg-exchange form: U^α ∝ exp(−iπα/4 (XX+YY+ZZ)).
    paulis = [np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1, -1])]
    heis = sum(np.kron(p, p) for p in paulis)
    w, v = np.linalg.eigh(heis)
    for alpha in (0.3, -0.7):
        expm = v @ np.diag(np.exp(-1j * math.pi * alpha / 4 * w)) @ v.conj().T
        assert equal_up_to_phase(swap_power_matrix(alpha), expm)


@pytest.mark.parametrize("a,b", [(0.2, 0.3), (0.5, 0.5), (-0.4, 1.1), (1.3, 1.9)])
def test_group_law(a, b):
    product = Operator(SwapPowerGate(a)).compose(Operator(SwapPowerGate(b)))
    assert product.equiv(Operator(SwapPowerGate(a + b)))
    # the paper's circuits compose the same way (up to phase)
    qc = QuantumCircuit(2)
    qc.append(SwapPowerGate(a).definition, [0, 1])
    qc.append(SwapPowerGate(b).definition, [0, 1])
    assert equal_up_to_phase(Operator(qc).data, bell_form(a + b))


def test_inverse_and_power():
    gate = SwapPowerGate(0.37)
    assert Operator(gate.inverse()).equiv(Operator(gate).adjoint())
    assert gate.inverse().params == [-0.37]
    assert Operator(gate.power(3)).equiv(Operator(SwapPowerGate(1.11)))
    identity = Operator(gate).compose(Operator(gate.inverse()))
    assert np.allclose(identity.data, np.eye(4), atol=1e-14)


def test_definition_counts_are_the_papers():
    ops = SwapPowerGate(0.3).definition.count_ops()
    assert ops.pop("cx") == 4
    assert sum(ops.values()) == 6


def test_parametrised_gate_binds():
    theta = Parameter("a")
    qc = QuantumCircuit(2)
    qc.append(SwapPowerGate(theta), [0, 1])
    bound = qc.assign_parameters({theta: 0.42})
    assert Operator(bound).equiv(Operator(bell_form(0.42)))


@pytest.mark.parametrize("eta", [0.0, 0.3, -1.1, 2.5])
def test_partial_swap_relation_eq9(eta):
    expected = math.cos(eta) * np.eye(4) + 1j * math.sin(eta) * SWAP
    assert np.allclose(partial_swap_matrix(eta), expected)
    # exact, phase included: U_SR(η) = e^{iη} U^α with α = −2η/π
    assert np.allclose(Operator(partial_swap(eta)).data, expected, atol=1e-12)
    assert np.allclose(
        np.exp(1j * eta) * swap_power_matrix(alpha_from_eta(eta)), expected, atol=1e-12
    )
    assert math.isclose(eta_from_alpha(alpha_from_eta(eta)), eta, abs_tol=1e-15)


def _cx_target() -> Target:
    return Target.from_configuration(
        basis_gates=["cx", "rz", "sx", "x"],
        num_qubits=2,
        coupling_map=CouplingMap.from_line(2, bidirectional=True),
        custom_name_mapping={
            "cx": CXGate(),
            "rz": RZGate(Parameter("t")),
            "sx": SXGate(),
            "x": XGate(),
        },
    )


@pytest.mark.parametrize("target", ["cx_line", "fake_torino", "fake_sherbrooke"])
def test_generic_alpha_compiles_to_three_two_qubit_gates(target):
    rng = np.random.default_rng(7)
    resolved = _cx_target() if target == "cx_line" else target
    names = {"cx_line": "cx", "fake_torino": "cz", "fake_sherbrooke": "ecr"}
    for alpha in rng.uniform(-2, 2, size=4):
        qc = QuantumCircuit(2)
        qc.append(SwapPowerGate(alpha), [0, 1])
        (compiled,), report = compile_circuits([qc], resolved, seed=1)
        assert report.two_qubit_gates == 3, (alpha, compiled.count_ops())
        assert compiled.count_ops()[names[target]] == 3
        if target == "cx_line":
            assert Operator.from_circuit(compiled).equiv(Operator(bell_form(alpha)))
