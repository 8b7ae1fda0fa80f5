r"""Bosonic protocols at circuit level: the compiled collision step on Aer (issue 8 item 5).

GKP on the position grid (``grid_qubits`` m), the cat qubit in Fock-binary (its cutoff). For
each compiled collision circuit (our pass manager, all-to-all CX basis) Aer's unitary
simulator gives U, hence the Kraus pair ⟨0|U|0⟩, ⟨1|U|0⟩; one step is their composition.

* ``observables.step_error`` — ‖step(ρ) − e^{dt𝓛}ρ‖₁ on the probe states, 𝓛 the encoded
  (grid / Fock-binary) Lindbladian: O(dt²) (R12);
* ``observables.rate`` (``cutoff``: the 2^m grid points) — the long-time logical rate from
  the step's Kraus operators iterated numerically (spec 003 §8: a 35/Γ horizon is thousands
  of steps, millions of gates: not gate by gate); ``ideal.rate`` the encoded Lindbladian's
  rate (operator-form integrator), and ``reference`` the exact torus rate (GKP) or the
  analytic rates (cat);
* ``circuit`` — qubits, two-qubit gates and depth of one step compiled for the backend;
* cat: ``observables.bit_flip_rate`` = −ln|λ|/dt of the step channel's parity mode (the
  slowest eigenvalue of its parity-even sector, spec 004 §2 correction; the same noise set
  as the reference), ``ideal.bit_flip_rate`` the Liouvillian's parity-sector eigenvalue;
  ``observables.phase_flip_rate`` from the odd sector of the step channel without loss
  (cutoff ≤ ``MAX_SPECTRUM_CUTOFF``; above it the parity rate is fitted to the differences
  of the iterated ⟨Q⟩, which removes its steady value, and the phase-flip rate is ``None``);
* ``observables.device`` — ``steps`` compiled steps with mid-circuit resets run with shots
  on the backend (with the device's noise for ``aer:<fake>``) from the vacuum / even cat,
  the logical Pauli read from the counts, against the Kraus iteration; mitigated on request
  (a ``…+readout-mitigation`` backend, ``zne``: every stretch between the resets folded,
  Richardson), the raw value kept under ``mitigation``.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from qiskit.circuit import QuantumCircuit
from qiskit.circuit.library import StatePreparation

from qcompile.errors import InvalidParameter
from qcompile.lowering.oscillator import FockBinary, PositionGrid
from qcompile.lowering.oscillator_collision import (
    Collision,
    apply_step,
    auto_dt,
    cat_collisions,
    check_step_size,
    collision_kraus,
    gkp_collisions,
    iterate_step,
    step_circuit,
)
from qcompile.passes.compile import compile_circuits
from qcompile.results import RunResult
from qcompile.run.mitigated_execution import run_counted
from qcompile.run.runner import Progress, RunContext, execute_run
from qcompile.run.zne import check_zne
from qcompile.states.mitigated_counts import MitigatedCounts

__all__ = [
    "auto_dt",
    "decay_rate",
    "oscillator_backend",
    "reference_options",
    "run_cat_circuits",
    "run_gkp_circuits",
]

#: Largest cat cutoff whose step channel is diagonalised for the phase-flip rate (d² = 2304).
MAX_SPECTRUM_CUTOFF = 48
#: The options every run takes; the others of a bosonic run are its circuit options.
RUN_COMMON = ("seed", "shots", "store", "progress", "run_id", "sweep_point")


def oscillator_backend(backend) -> bool:
    """True for a circuit backend that gives unitaries (Aer: the step's Kraus operators come
    from its unitary simulator); refuses any other circuit backend; false for ``reference``."""
    if not getattr(backend, "runs_circuits", False):
        return False
    if not hasattr(backend, "unitary"):
        raise InvalidParameter(
            "backend", getattr(backend, "name", backend), "reference, aer or aer:<fake "
            "backend> (the oscillator step's Kraus operators come from Aer's unitary simulator)",
        )  # fmt: skip
    return True


def reference_options(options: dict) -> dict:
    """The options of a bosonic run on the reference backend: every circuit option given
    (not ``None``) is refused, in one line naming them."""
    circuit = [name for name, value in options.items()
               if name not in RUN_COMMON and value is not None]  # fmt: skip
    if circuit:
        raise InvalidParameter("backend", "reference", "aer or aer:<fake> for circuit options "
                               + ", ".join(circuit))  # fmt: skip
    return {name: value for name, value in options.items() if name in RUN_COMMON}


def offset_decay_rate(times: np.ndarray, signal: np.ndarray) -> float:
    """Rate of a e^{−Γt} + c on equally spaced ``times``: the fit of its differences (which
    drop c) on [T/3, T]."""
    return decay_rate(times[:-1], np.diff(signal))


#: Below this fraction of its largest value a decaying signal is round-off, not decay.
ROUND_OFF_FLOOR = 1e-9


def decay_rate(times: np.ndarray, signal: np.ndarray) -> float:
    """Exponential rate fitted on [T/3, T], T the last time the signal is still above
    round-off (:data:`ROUND_OFF_FLOOR` of its largest value): a fast decay (a coarse grid's
    rate ~1/Γ over a 40/Γ horizon) reaches double precision's floor long before the horizon,
    and a fit of that floor returns noise that changes from machine to machine."""
    size = np.abs(signal)
    above = np.flatnonzero(size > ROUND_OFF_FLOOR * size.max())
    end = above[-1] if above.size else len(times) - 1
    window = np.arange(end + 1)
    late = window[times[window] >= times[end] / 3]
    if late.size < 2:
        late = window[-2:]
    return float(-np.polyfit(times[late], np.log(size[late]), 1)[0])


def _collisions(
    build: Callable[[float], list[Collision]], dt: float | None, horizon: float
) -> tuple[float, list[Collision]]:
    """The step's collisions at ``dt`` (default: :func:`auto_dt`), checked."""
    collisions = build(1e-3 if dt is None else dt)
    if dt is None:
        dt = auto_dt(collisions)
        collisions = build(dt)
    check_step_size(collisions, dt)
    if not (isinstance(horizon, (int, float)) and 0 < horizon and horizon / dt <= 2e6):
        raise InvalidParameter("horizon", horizon, f"0 < horizon <= {2e6 * dt:g} (2e6 steps)")
    return dt, collisions


def _compile(backend, collisions: list[Collision]) -> tuple[list, dict]:
    """Kraus pairs of the compiled collisions (Aer unitaries; all-to-all CX basis) and the
    cost of one step compiled for the backend."""
    compiled, _ = compile_circuits([c.circuit for c in collisions], None)
    kraus = [collision_kraus(backend.unitary(c)) for c in compiled]
    _, report = compile_circuits([step_circuit(collisions)], backend.compile_target)
    return kraus, report.to_dict()


def _decay_rates(kraus, jumps, rho0, observable, dt, horizon, evolve, report):
    """Decay rate of Tr(O ρ) under the iterated compiled step and under the encoded
    Lindbladian (operator-form integrator), both fitted on [T/3, T]."""
    steps = round(horizon / dt)
    marks, values = iterate_step(
        kraus, rho0, steps, [observable], every=max(steps // 60, 1),
        progress=lambda n, total: report("iterating the compiled step", n, total),
    )  # fmt: skip
    times = np.linspace(0, horizon, 31)
    (signal,) = evolve(jumps, None, rho0, times, [observable])
    return decay_rate(marks * dt, values[0]), decay_rate(times, signal)


def _trace_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(np.linalg.eigvalsh((a - b + (a - b).conj().T) / 2)).sum() / 2)


def _one_step_error(kraus, jumps, hamiltonian, states, dt, evolve_states) -> float:
    errs = []
    for rho in states:
        exact = evolve_states(jumps, hamiltonian, rho, [0.0, dt], rtol=1e-10, atol=1e-12)[-1]
        errs.append(_trace_distance(apply_step(kraus, rho), exact))
    return float(max(errs))


def _device_circuit(backend, collisions, state, steps: int) -> QuantumCircuit:
    """``steps`` compiled collision steps from ``state``, every qubit of the mode measured."""
    m = collisions[0].circuit.num_qubits - 1
    circuit = QuantumCircuit(m + 1, m)
    circuit.append(StatePreparation(state), range(m))
    circuit.compose(step_circuit(collisions, steps), range(m + 1), inplace=True)
    circuit.measure(range(m), range(m))
    (compiled,), _ = compile_circuits([circuit], backend.compile_target)
    return compiled


@dataclass(frozen=True)
class _DiagonalReadout:
    """The device block's estimate (the one runner's ``estimate`` interface): Tr(Dρ) of a
    diagonal observable D from the counts of the mode's qubits, its standard error resampled
    from the raw counts and calibration for readout-mitigated counts (the inversion's
    variance), binomial otherwise."""

    diagonal: np.ndarray
    key: str
    steps: int

    def estimate(self, protocol, counts: list, rng: np.random.Generator) -> dict:
        (table,) = counts
        shots = sum(table.values())
        values = np.array([self.diagonal[int(k.replace(" ", ""), 2)] for k in table])
        mean = float(values @ (np.array(list(table.values()), dtype=float) / shots))
        if isinstance(table, MitigatedCounts):
            error = table.stderr_of(self.diagonal, rng)
        else:
            error = float(math.sqrt(max(1 - mean**2, 0) / shots))
        return {"steps": self.steps, self.key: mean, f"{self.key}_stderr": error}


def _device_block(
    protocol, backend, collisions, state, readout: _DiagonalReadout, shots: int, seed: int,
    report: Progress, run_id: str | None, zne,
) -> tuple[dict, dict]:  # fmt: skip
    """The device observable after ``readout.steps`` steps from ``state``, counted and
    mitigated as any data-flow protocol's (:func:`qcompile.run.mitigated_execution.run_counted`:
    readout raw values kept, ZNE with every stretch between the resets folded), and the
    mitigation record."""
    compiled = _device_circuit(backend, collisions, state, readout.steps)
    return run_counted(readout, protocol, backend, [compiled], shots, seed, report, run_id, zne)


def run_gkp_circuits(
    protocol, backend, *, evolve: Callable, evolve_states: Callable, grid_qubits: int = 6,
    dt: float | None = None, horizon: float = 40.0, steps_on_device: int = 3, seed=None,
    shots: int | None = 4000, store=None, progress: Progress | None = None, run_id=None,
    sweep_point=None, zne: tuple[int, ...] | str | None = None,
) -> RunResult:  # fmt: skip
    """The compiled GKP step on the grid: one-step error, Kraus-iterated logical rate, device
    shots (module docstring); ``zne`` extrapolates the device value (:mod:`qcompile.run.zne`)."""
    zne = check_zne(zne, backend)
    grid = PositionGrid(grid_qubits, protocol.kappa)
    dt, collisions = _collisions(lambda t: gkp_collisions(protocol, grid, t), dt, horizon)
    shots = 4000 if shots is None else shots
    seed = secrets.randbelow(2**31) if seed is None else seed
    options = {"grid_qubits": grid_qubits, "dt": dt, "horizon": horizon}

    def body(run: RunContext) -> RunResult:
        report = run.report
        stage = f"GKP grid m = {grid_qubits}: compile, Kraus, iterate"
        report(stage, 0, 4)
        kraus, resources = _compile(backend, collisions)
        report(stage, 1, 4)
        x = grid.positions()
        z = np.diag(np.sign(np.cos(protocol.eta * x / 2))).astype(complex)
        v0 = np.exp(-(x**2) / (2 * protocol.kappa))
        v1 = np.exp(-((x - 2 * math.pi / protocol.eta) ** 2) / (2 * protocol.kappa))
        v0, v1 = v0 / np.linalg.norm(v0), v1 / np.linalg.norm(v1)
        probe = np.outer(v0, v0) - np.outer(v1, v1)
        jumps = [c.jump for c in collisions]
        step_error = _one_step_error(
            kraus, jumps, None, [np.outer(v0, v0), np.outer(v1, v1)], dt, evolve_states
        )
        report(stage, 2, 4)
        rate, ideal_rate = _decay_rates(kraus, jumps, probe, z, dt, horizon, evolve, report)
        report(stage, 3, 4)
        readout = _DiagonalReadout(np.diag(z).real, "z", steps_on_device)
        device, mitigation = _device_block(protocol, backend, collisions, v0, readout, shots,
                                           seed, report, run.run_id, zne)  # fmt: skip
        rho = np.outer(v0, v0).astype(complex)
        for _ in range(steps_on_device):
            rho = apply_step(kraus, rho)
        report(stage, 4, 4)
        vacuum = np.zeros(protocol.cutoff)
        vacuum[0] = 1
        return RunResult(
            protocol=protocol.name, parameters=protocol.parameters(), backend=backend.name,
            seed=seed, shots=shots,
            circuit={
                "encoding": "position grid", "grid_qubits": grid_qubits,
                "qubits": grid_qubits + 1, "collisions_per_step": len(collisions),
                "spacing": grid.dq, "window": grid.points * grid.dq / 2,
                "truncation_error_vacuum": grid.truncation_error(vacuum),
                "dt": dt, "dt_norm": check_step_size(collisions, dt), **resources,
            },
            observables={
                "rate": rate, "grid_qubits": grid_qubits, "cutoff": grid.points, "dt": dt,
                "step_error": step_error,
                "method": "compiled step's Kraus operators (Aer unitaries) iterated numerically",
                "device": device,
            },
            ideal={
                "rate": ideal_rate, "z_after_steps": float(np.trace(z @ rho).real),
                "method": "grid Lindbladian (operator form, SciPy DOP853)",
            },
            reference=protocol.rate_reference(),
            mitigation=mitigation or None,
        )  # fmt: skip

    if zne:
        options["zne"] = list(zne)  # (recipes are as before without it)
    return execute_run(
        protocol, backend, body, runner="gkp", store=store, progress=progress, run_id=run_id,
        sweep_point=sweep_point, seed=seed, shots=shots, **options,
    )  # fmt: skip


def run_cat_circuits(
    protocol, backend, *, evolve: Callable, evolve_states: Callable, sector_slowest: Callable,
    dt: float | None = None, horizon: float = 20.0, steps_on_device: int = 3, seed=None,
    shots: int | None = 4000, store=None, progress: Progress | None = None, run_id=None,
    sweep_point=None, zne: tuple[int, ...] | str | None = None,
) -> RunResult:  # fmt: skip
    """The compiled cat step in Fock-binary: one-step error, parity (bit-flip) and phase-flip
    rates from the step channel's spectrum by parity sector, device shots (``zne`` as for
    :func:`run_gkp_circuits`)."""
    zne = check_zne(zne, backend)
    fock = FockBinary(protocol.cutoff)
    dt, collisions = _collisions(lambda t: cat_collisions(protocol, fock, t), dt, horizon)
    shots = 4000 if shots is None else shots
    seed = secrets.randbelow(2**31) if seed is None else seed
    options = {"dt": dt, "horizon": horizon}

    def body(run: RunContext) -> RunResult:
        report = run.report
        stage = f"cat Fock-binary ({fock.qubits} qubits): compile, Kraus, iterate"
        report(stage, 0, 4)
        kraus, resources = _compile(backend, collisions)
        report(stage, 1, 4)
        even = fock.encode(protocol.even_cat())
        parity = fock.pad(protocol.parity())
        jumps = [c.jump for c in collisions]
        cat_state = np.outer(even, even.conj())
        step_error = _one_step_error(kraus, jumps, None, [cat_state], dt, evolve_states)
        report(stage, 2, 4)
        bit_flip = ideal_bit_flip = phase_flip = None
        if protocol.kappa1 > 0:
            ideal_bit_flip = _parity_rate(protocol, sector_slowest)
        if protocol.cutoff <= MAX_SPECTRUM_CUTOFF:  # the step channel's spectrum, by sector
            q = np.diag(parity).real
            if protocol.kappa1 > 0:
                bit_flip = _step_rate(kraus, q, +1, 1, dt)
            if protocol.kappa_d > 0:
                no_loss = [k for k, c in zip(kraus, collisions, strict=True) if c.label != "loss"]
                phase_flip = _step_rate(no_loss, q, -1, 0, dt)
        elif protocol.kappa1 > 0:
            steps = round(horizon / dt)
            every = max(steps // 60, 1)
            marks, values = iterate_step(
                kraus, cat_state, steps - steps % every, [parity], every=every,
                progress=lambda n, total: report("iterating the compiled step", n, total),
            )  # fmt: skip
            bit_flip = offset_decay_rate(marks * dt, values[0])
        report(stage, 3, 4)
        readout = _DiagonalReadout(np.diag(parity).real, "parity", steps_on_device)
        device, mitigation = _device_block(protocol, backend, collisions, even, readout, shots,
                                           seed, report, run.run_id, zne)  # fmt: skip
        rho = cat_state
        for _ in range(steps_on_device):
            rho = apply_step(kraus, rho)
        report(stage, 4, 4)
        two_n = 2 * protocol.photons
        return RunResult(
            protocol=protocol.name, parameters=protocol.parameters(), backend=backend.name,
            seed=seed, shots=shots,
            circuit={
                "encoding": "Fock-binary", "fock_qubits": fock.qubits,
                "qubits": fock.qubits + 1, "collisions_per_step": len(collisions),
                "truncation_error_cat": fock.truncation_error(
                    _coherent_tail(protocol.alpha, protocol.cutoff)
                ),
                "dt": dt, "dt_norm": check_step_size(collisions, dt), **resources,
            },
            observables={
                "bit_flip_rate": bit_flip, "phase_flip_rate": phase_flip, "dt": dt,
                "step_error": step_error,
                "method": "compiled step's Kraus operators (Aer unitaries): parity-sector "
                "eigenvalues of the step channel" if protocol.cutoff <= MAX_SPECTRUM_CUTOFF
                else "compiled step's Kraus operators (Aer unitaries) iterated numerically, "
                "rate of the differences",
                "device": device,
            },
            ideal={
                "bit_flip_rate": ideal_bit_flip,
                "parity_after_steps": float(np.trace(parity @ rho).real),
                "method": "Lindbladian at the cutoff: parity-sector eigenvalue (QuTiP); the "
                "state after the device steps by iterating the compiled step",
            },
            reference={
                "bit_flip_rate": 2 * protocol.kappa1 * two_n,
                "alpha_squared_modulus": two_n,
                "note": "parity decays at 2 kappa1 |alpha|^2 (spec 004 §2)",
            },
            mitigation=mitigation or None,
        )  # fmt: skip

    if zne:
        options["zne"] = list(zne)  # (recipes are as before without it)
    return execute_run(
        protocol, backend, body, runner="cat", store=store, progress=progress, run_id=run_id,
        sweep_point=sweep_point, seed=seed, shots=shots, **options,
    )  # fmt: skip


def _coherent_tail(alpha: complex, cutoff: int) -> np.ndarray:
    """Coherent-state amplitudes on 2·cutoff + 40 levels (to measure the weight beyond)."""
    from scipy.special import gammaln

    n = np.arange(2 * cutoff + 40)
    return np.exp(-(abs(alpha) ** 2) / 2 + n * np.log(alpha + 0j) - 0.5 * gammaln(n + 1))


def _parity_rate(protocol, sector_slowest: Callable) -> float:
    """The parity (bit-flip) rate of the protocol's Lindbladian with loss and dephasing: the
    non-zero eigenvalue of its parity-even sector (spec 004 §2 correction)."""
    values = sector_slowest(protocol.open_system(), protocol.parity().diagonal(), 1, 2)
    return float(-values[1].real)


def _step_rate(kraus, q: np.ndarray, sector: int, index: int, dt: float) -> float:
    """−ln|λ|/dt for the ``index``-th largest |λ| of the step channel in one sector of the
    parity superoperator (q: parity's diagonal): even sector index 1 = the parity mode
    (index 0 is the steady state); odd sector without loss, index 0 = the phase flip."""
    d = q.size
    keep = np.flatnonzero(np.outer(q, q).reshape(-1) * sector > 0)  # row-stacked vec(ρ)
    superop = np.eye(d * d, dtype=complex)
    for k0, k1 in kraus:
        a, b = k0[:d, :d], k1[:d, :d]
        superop = (np.kron(a, a.conj()) + np.kron(b, b.conj())) @ superop
    mods = np.sort(np.abs(np.linalg.eigvals(superop[np.ix_(keep, keep)])))[::-1]
    return float(-math.log(mods[index]) / dt)
