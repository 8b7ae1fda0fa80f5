"""Trotter and collision lowering: convergence orders against QuTiP, CPTP step channels,
the stated splitting bound, and the coherent-feedback circuits (spec 002 §7)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.linalg as sla
from qiskit import QuantumCircuit
from qiskit.quantum_info import DensityMatrix, Operator, partial_trace

from qcompile.backends.aer import density_matrices_at
from qcompile.backends.reference import lindblad_reference
from qcompile.errors import InvalidParameter
from qcompile.lowering.collision import jump_collision
from qcompile.lowering.dynamics import lower_dynamics
from qcompile.lowering.trotter import pauli_terms, splitting_error_bound, trotter_step_template
from qcompile.model import OpenSystem, TimeDependentTerm
from qcompile.protocols.coherent_feedback import FIG1_TABLE, coherent_feedback


def _random_system(seed: int, time_dependent: bool) -> OpenSystem:
    rng = np.random.default_rng(seed)

    def hermitian():
        a = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
        return (a + a.conj().T) / 2

    jump = 0.5 * (rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4)))
    terms = (TimeDependentTerm(hermitian(), lambda t: np.cos(2 * t)),) if time_dependent else ()
    rho0 = np.diag([1.0, 0, 0, 0]).astype(complex)
    return OpenSystem(
        dims=(2, 2),
        hamiltonian=hermitian(),
        time_dependent=terms,
        jump_operators=(jump,),
        initial_state=rho0,
    )


def _errors(system, options, dts, t=1.0):
    exact = lindblad_reference(system, [t]).states[0]
    errors = []
    for dt in dts:
        lowered = lower_dynamics(system, t_max=t, dt=dt, checkpoints=[t], **options)
        rho = density_matrices_at(lowered.circuit, lowered.checkpoints, lowered.system_qubits)[t]
        errors.append(0.5 * np.abs(np.linalg.eigvalsh(rho - exact)).sum())
    return np.array(errors)


@pytest.mark.parametrize(
    "time_dependent,options,expected_order",
    [
        (False, {"order": 1}, 1),
        (False, {"order": 2}, 2),  # Strang: half collisions around the symmetric product
        (False, {"order": 1, "collision": "dilation"}, 1),
        (True, {"order": 2, "rule": "midpoint"}, 2),
        (True, {"order": 2, "rule": "left"}, 1),  # sampling at the left end: first order
        (True, {"order": 2, "rule": "end"}, 1),
        (True, {"collision": "channel", "rule": "midpoint"}, 2),
    ],
)
def test_convergence_order_against_qutip(time_dependent, options, expected_order):
    errors = _errors(_random_system(3, time_dependent), options, [0.1, 0.05, 0.025])
    slopes = np.log2(errors[:-1] / errors[1:])
    assert np.all(np.abs(slopes - expected_order) < 0.25), (errors, slopes)


def test_step_channel_is_exact_for_static_systems():
    errors = _errors(_random_system(5, False), {"collision": "channel"}, [0.25])
    assert errors[0] < 1e-8


def _choi(block: QuantumCircuit, n: int) -> np.ndarray:
    """Choi matrix of ``block`` on its first n qubits (ancillas start in |0⟩, end reset)."""
    d = 2**n
    total = 2 * n + block.num_qubits - n
    qc = QuantumCircuit(total)
    for q in range(n):  # maximally entangled reference (qubits n+extra.. ) ⊗ system (0..n-1)
        qc.h(block.num_qubits + q)
        qc.cx(block.num_qubits + q, q)
    qc.compose(block, range(block.num_qubits), inplace=True)
    rho = DensityMatrix(qc)
    keep = list(range(n)) + list(range(block.num_qubits, total))
    return d * partial_trace(rho, [q for q in range(total) if q not in keep]).data


@pytest.mark.parametrize("method", ["exact", "dilation"])
def test_every_collision_channel_is_cptp(method):
    rng = np.random.default_rng(9)
    for d in (2, 4):
        jump = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
        n = int(np.log2(d))
        choi = _choi(jump_collision(jump, 0.07, method), n)
        assert np.linalg.eigvalsh(0.5 * (choi + choi.conj().T)).min() > -1e-10  # CP
        # TP: tracing out the output (system) leaves 1 on the reference
        t = choi.reshape(d, d, d, d)  # (reference, system; reference', system') little-endian
        assert np.allclose(np.einsum("aibi->ab", t), np.eye(d), atol=1e-10)


def test_compiled_coherent_feedback_step_is_cptp():
    cf = coherent_feedback(gamma=5, t_max=0.1, dt=0.1)
    lowered = lower_dynamics(
        cf.open_system(), t_max=0.1, dt=0.1, frame=cf.frame(), checkpoints=[0.0, 0.1]
    )
    start, end = lowered.checkpoints[0.0], lowered.checkpoints[0.1]
    step = lowered.circuit.copy_empty_like()
    for inst in lowered.circuit.data[start:end]:
        step.append(inst)
    choi = _choi(step, 3)
    assert np.linalg.eigvalsh(0.5 * (choi + choi.conj().T)).min() > -1e-9
    assert np.allclose(np.einsum("aibi->ab", choi.reshape(8, 8, 8, 8)), np.eye(8), atol=1e-9)


def test_splitting_bound_holds():
    """The commutator bound of a product-formula step is above the true unitary error."""
    rng = np.random.default_rng(4)
    labels = ["XX", "ZI", "IY", "YZ"]
    weights = rng.normal(size=len(labels))
    from qiskit.quantum_info import SparsePauliOp

    h = SparsePauliOp.from_list(list(zip(labels, weights, strict=True))).to_matrix()
    for order in (1, 2):
        template, params = trotter_step_template(labels, 2, order)
        dt = 0.1
        step = Operator(
            template.assign_parameters({p: w * dt for p, w in zip(params, weights, strict=True)})
        ).data
        exact = sla.expm(-1j * dt * h)
        error = np.linalg.norm(step - exact, 2)
        from qcompile.lowering.trotter import commuting_groups

        groups = commuting_groups(labels)
        mats = [
            SparsePauliOp.from_list([(labels[j], weights[j]) for j in g]).to_matrix()
            for g in groups
        ]
        assert error <= splitting_error_bound(mats, dt, order) + 1e-12
        assert error > 0


def test_coherent_feedback_circuit_reproduces_fig1():
    """Spec 002 §7: rotating-frame (end-point) lowering — D = 0 before t_a to 1e-10, the
    Fig. 1 table within 1e-3, and second-order convergence in dt."""
    times = [0.0, 0.5, 0.9, *[t for t in FIG1_TABLE if t <= 6 and t != 1.25]]  # multiples of 0.02
    errors = []
    for dt in (0.02, 0.01):
        cf = coherent_feedback(gamma=5, transient_at=1.0, t_max=6, dt=dt)
        lowered = lower_dynamics(
            cf.open_system(),
            t_max=6,
            dt=dt,
            frame=cf.frame(),
            checkpoints=times,
            rule="rotating",
            synthesis="exact",
        )
        states = density_matrices_at(lowered.circuit, lowered.checkpoints, lowered.system_qubits)
        d = cf.trace_distances(times, [cf.plant_state(states[t]) for t in times])
        assert np.max(d[:3]) < 1e-10
        table = np.array([FIG1_TABLE[t] for t in times[3:]])
        assert np.max(np.abs(d[3:] - table)) < 1e-3
        reference = lindblad_reference(cf.open_system(), times).states
        exact = cf.trace_distances(times, [cf.plant_state(s) for s in reference])
        errors.append(np.max(np.abs(d - exact)))
    assert 3.0 < errors[0] / errors[1] < 5.0  # O(dt^2)


def test_midpoint_rule_violates_theorem_1_at_first_order():
    """Spec 002 §7: sampling H at the midpoint of an unsplit step leaves D(0.5) ≠ 0, O(dt)."""
    cf = coherent_feedback(gamma=5, t_max=0.5, dt=0.01)
    lowered = lower_dynamics(
        cf.open_system(), t_max=0.5, dt=0.01, checkpoints=[0.5], rule="end", synthesis="exact"
    )
    states = density_matrices_at(lowered.circuit, lowered.checkpoints, lowered.system_qubits)
    assert cf.trace_distances([0.5], [cf.plant_state(states[0.5])])[0] > 1e-3


def test_pauli_terms_round_trip():
    rng = np.random.default_rng(1)
    a = rng.normal(size=(8, 8)) + 1j * rng.normal(size=(8, 8))
    h = a + a.conj().T
    assert np.allclose(pauli_terms(h).to_matrix(), h)


@pytest.mark.parametrize(
    "kwargs,param",
    [
        ({"t_max": 1.0, "dt": 0}, "dt"),
        ({"t_max": 1.0, "dt": 2.0}, "dt"),
        ({"t_max": 1.0, "dt": 0.3}, "dt"),
        ({"t_max": -1.0, "dt": 0.1}, "t_max"),
        ({"t_max": 1.0, "dt": 0.1, "order": 3}, "order"),
        ({"t_max": 1.0, "dt": 0.1, "rule": "random"}, "rule"),
        ({"t_max": 1.0, "dt": 0.1, "rule": "rotating"}, "frame"),
        ({"t_max": 1.0, "dt": 0.1, "ancillas": 0}, "ancillas"),
        ({"t_max": 1.0, "dt": 0.1, "checkpoints": [0.55]}, "checkpoints"),
    ],
)
def test_bad_lowering_options(kwargs, param):
    with pytest.raises(InvalidParameter) as info:
        lower_dynamics(_random_system(1, False), **kwargs)
    assert info.value.name == param
