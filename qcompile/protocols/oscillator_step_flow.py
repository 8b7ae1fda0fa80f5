r"""GKP (spec 003) and the cat qubit (spec 004 §2) at circuit level: their data flow on the one
runner's *step* path (:mod:`qcompile.run.step_pipeline`), issue 8 item 5.

GKP on the position grid (``grid_qubits`` m), the cat qubit in Fock-binary (its cutoff).
:func:`gkp_lower_step` / :func:`cat_lower_step` build one collision step
(:mod:`qcompile.lowering.oscillator_collision`); the runner compiles each collision, takes
its Kraus pair ⟨0|U|0⟩, ⟨1|U|0⟩ from the backend's unitary, and :func:`gkp_estimate_step` /
:func:`cat_estimate_step` turn them into

* ``observables.step_error`` — ‖step(ρ) − e^{dt𝓛}ρ‖₁ on the probe states, 𝓛 the encoded
  (grid / Fock-binary) Lindbladian: O(dt²) (R12);
* ``observables.rate`` (GKP; ``cutoff``: the 2^m grid points) — the long-time logical rate
  from the step's Kraus operators iterated numerically (spec 003 §8: a 35/Γ horizon is
  thousands of steps, millions of gates: not gate by gate); ``ideal.rate`` the encoded
  Lindbladian's rate (operator-form integrator), and ``reference`` the exact torus rate;
* cat: ``observables.bit_flip_rate`` = −ln|λ|/dt of the step channel's parity mode (the
  slowest eigenvalue of its parity-even sector, spec 004 §2 correction; the same noise set
  as the reference), ``ideal.bit_flip_rate`` the Liouvillian's parity-sector eigenvalue;
  ``observables.phase_flip_rate`` from the odd sector of the step channel without loss
  (cutoff ≤ :data:`MAX_SPECTRUM_CUTOFF`; above it the parity rate is fitted to the
  differences of the iterated ⟨Q⟩, which removes its steady value, and the phase-flip rate
  is ``None``);
* ``ideal.<readout>_after_steps`` — the logical Pauli after the device's steps by iterating
  the compiled step, what ``observables.device`` (the runner's shots) is compared with.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from qcompile.errors import InvalidParameter
from qcompile.lowering.oscillator import FockBinary, PositionGrid
from qcompile.lowering.oscillator_collision import (
    Collision,
    apply_step,
    auto_dt,
    cat_collisions,
    check_step_size,
    gkp_collisions,
    iterate_step,
)

__all__ = [
    "DEVICE_STEPS",
    "LoweredStep",
    "MAX_SPECTRUM_CUTOFF",
    "cat_estimate_step",
    "cat_lower_step",
    "decay_rate",
    "gkp_estimate_step",
    "gkp_lower_step",
    "offset_decay_rate",
]

#: Largest cat cutoff whose step channel is diagonalised for the phase-flip rate (d² = 2304).
MAX_SPECTRUM_CUTOFF = 48
#: Compiled steps run with shots on the backend (the ``steps_on_device`` option's default).
DEVICE_STEPS = 3
#: The default horizons of the rate fits on a circuit backend.
GKP_HORIZON = 40.0
CAT_HORIZON = 20.0
#: Below this fraction of its largest value a decaying signal is round-off, not decay.
ROUND_OFF_FLOOR = 1e-9


@dataclass(frozen=True)
class LoweredStep:
    """One collision step of an encoded oscillator, as the step path runs it: the
    ``collisions`` at ``dt``; the device run's initial ``state`` (a vector on the mode's
    qubits) and diagonal ``readout`` observable, reported as ``readout_key``; the ``circuit``
    block's encoding entries; the run's options as its recipe records them (``recipe``);
    ``stage``, the progress label; ``data``, what its estimate needs besides the Kraus
    operators."""

    collisions: list[Collision]
    dt: float
    state: np.ndarray
    readout: np.ndarray
    readout_key: str
    circuit: dict[str, Any]
    recipe: dict[str, Any]
    stage: str
    steps_on_device: int = DEVICE_STEPS
    data: dict[str, Any] = field(default_factory=dict)


def offset_decay_rate(times: np.ndarray, signal: np.ndarray) -> float:
    """Rate of a e^{−Γt} + c on equally spaced ``times``: the fit of its differences (which
    drop c) on [T/3, T]."""
    return decay_rate(times[:-1], np.diff(signal))


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


def _device_steps(value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 1000:
        raise InvalidParameter("steps_on_device", value, "an integer 0 <= steps <= 1000")
    return value


def _recipe(options: dict[str, Any], steps: int) -> dict[str, Any]:
    """The run's options as recorded (``steps_on_device`` only when not the default: recipes
    are as before without it)."""
    return options | ({} if steps == DEVICE_STEPS else {"steps_on_device": steps})


def _trace_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(np.linalg.eigvalsh((a - b + (a - b).conj().T) / 2)).sum() / 2)


def _one_step_error(kraus, jumps, states, dt, evolve_states) -> float:
    errs = []
    for rho in states:
        exact = evolve_states(jumps, None, rho, [0.0, dt], rtol=1e-10, atol=1e-12)[-1]
        errs.append(_trace_distance(apply_step(kraus, rho), exact))
    return float(max(errs))


def _after_steps(kraus, rho: np.ndarray, steps: int, observable: np.ndarray) -> float:
    for _ in range(steps):
        rho = apply_step(kraus, rho)
    return float(np.trace(observable @ rho).real)


# -- GKP on the position grid ----------------------------------------------------------------
def gkp_lower_step(protocol, options: Mapping[str, Any]) -> LoweredStep:
    """The grid step (``grid_qubits`` 6, ``dt`` automatic, ``horizon`` 40 by default),
    checked; the device starts in the grid's logical |0⟩ and reads Z."""
    grid_qubits = options.get("grid_qubits", 6)
    horizon = options.get("horizon", GKP_HORIZON)
    protocol.check_evolution(horizon)
    steps = _device_steps(options.get("steps_on_device", DEVICE_STEPS))
    grid = PositionGrid(grid_qubits, protocol.kappa)
    dt, collisions = _collisions(lambda t: gkp_collisions(protocol, grid, t), options.get("dt"),
                                 horizon)  # fmt: skip
    x = grid.positions()
    z = np.diag(np.sign(np.cos(protocol.eta * x / 2))).astype(complex)
    v0 = np.exp(-(x**2) / (2 * protocol.kappa))
    v1 = np.exp(-((x - 2 * math.pi / protocol.eta) ** 2) / (2 * protocol.kappa))
    v0, v1 = v0 / np.linalg.norm(v0), v1 / np.linalg.norm(v1)
    vacuum = np.zeros(protocol.cutoff)
    vacuum[0] = 1
    circuit = {
        "encoding": "position grid", "grid_qubits": grid_qubits, "qubits": grid_qubits + 1,
        "collisions_per_step": len(collisions), "spacing": grid.dq,
        "window": grid.points * grid.dq / 2,
        "truncation_error_vacuum": grid.truncation_error(vacuum),
        "dt": dt, "dt_norm": check_step_size(collisions, dt),
    }  # fmt: skip
    return LoweredStep(
        collisions, dt, v0, np.diag(z).real, "z", circuit,
        _recipe({"grid_qubits": grid_qubits, "dt": dt, "horizon": horizon}, steps),
        f"GKP grid m = {grid_qubits}: compile, Kraus, iterate", steps,
        {"z": z, "v0": v0, "v1": v1, "horizon": horizon, "points": grid.points},
    )  # fmt: skip


def gkp_estimate_step(protocol, step: LoweredStep, kraus, solvers: Mapping, report):
    """``(observables, ideal)`` of the compiled grid step: its one-step error on the logical
    states, the logical rate of its iterated Kraus operators and of the grid Lindbladian."""
    d = step.data
    jumps = [c.jump for c in step.collisions]
    states = [np.outer(d["v0"], d["v0"]), np.outer(d["v1"], d["v1"])]
    step_error = _one_step_error(kraus, jumps, states, step.dt, solvers["evolve_states"])
    report(step.stage, 2, 4)
    probe = states[0] - states[1]
    steps = round(d["horizon"] / step.dt)
    marks, values = iterate_step(
        kraus, probe, steps, [d["z"]], every=max(steps // 60, 1),
        progress=lambda n, total: report("iterating the compiled step", n, total),
    )  # fmt: skip
    times = np.linspace(0, d["horizon"], 31)
    (signal,) = solvers["evolve"](jumps, None, probe, times, [d["z"]])
    report(step.stage, 3, 4)
    observables = {
        "rate": decay_rate(marks * step.dt, values[0]), "grid_qubits": step.circuit["grid_qubits"],
        "cutoff": d["points"], "dt": step.dt, "step_error": step_error,
        "method": "compiled step's Kraus operators (Aer unitaries) iterated numerically",
    }  # fmt: skip
    ideal = {
        "rate": decay_rate(times, signal),
        "z_after_steps": _after_steps(kraus, states[0].astype(complex), step.steps_on_device,
                                      d["z"]),
        "method": "grid Lindbladian (operator form, SciPy DOP853)",
    }  # fmt: skip
    return observables, ideal


# -- the cat qubit in Fock-binary ------------------------------------------------------------
def cat_lower_step(protocol, options: Mapping[str, Any]) -> LoweredStep:
    """The Fock-binary step (``dt`` automatic, ``horizon`` 20 by default), checked; the
    device starts in the even cat and reads the photon-number parity."""
    horizon = options.get("horizon", CAT_HORIZON)
    steps = _device_steps(options.get("steps_on_device", DEVICE_STEPS))
    fock = FockBinary(protocol.cutoff)
    dt, collisions = _collisions(lambda t: cat_collisions(protocol, fock, t), options.get("dt"),
                                 horizon)  # fmt: skip
    even = fock.encode(protocol.even_cat())
    parity = fock.pad(protocol.parity())
    circuit = {
        "encoding": "Fock-binary", "fock_qubits": fock.qubits, "qubits": fock.qubits + 1,
        "collisions_per_step": len(collisions),
        "truncation_error_cat": fock.truncation_error(_coherent_tail(protocol.alpha,
                                                                     protocol.cutoff)),
        "dt": dt, "dt_norm": check_step_size(collisions, dt),
    }  # fmt: skip
    return LoweredStep(
        collisions, dt, even, np.diag(parity).real, "parity", circuit,
        _recipe({"dt": dt, "horizon": horizon}, steps),
        f"cat Fock-binary ({fock.qubits} qubits): compile, Kraus, iterate", steps,
        {"parity": parity, "even": even, "horizon": horizon},
    )  # fmt: skip


def cat_estimate_step(protocol, step: LoweredStep, kraus, solvers: Mapping, report):
    """``(observables, ideal)`` of the compiled Fock-binary step: its one-step error on the
    even cat, the bit-flip (parity) and phase-flip rates of its channel by parity sector (or
    of its iteration above :data:`MAX_SPECTRUM_CUTOFF`), the Liouvillian's parity rate."""
    parity, even = step.data["parity"], step.data["even"]
    jumps = [c.jump for c in step.collisions]
    cat_state = np.outer(even, even.conj())
    step_error = _one_step_error(kraus, jumps, [cat_state], step.dt, solvers["evolve_states"])
    report(step.stage, 2, 4)
    bit_flip = ideal_bit_flip = phase_flip = None
    if protocol.kappa1 > 0:
        ideal_bit_flip = _parity_rate(protocol, solvers["sector_slowest"])
    if protocol.cutoff <= MAX_SPECTRUM_CUTOFF:  # the step channel's spectrum, by sector
        q = np.diag(parity).real
        if protocol.kappa1 > 0:
            bit_flip = _step_rate(kraus, q, +1, 1, step.dt)
        if protocol.kappa_d > 0:
            no_loss = [k for k, c in zip(kraus, step.collisions, strict=True)
                       if c.label != "loss"]  # fmt: skip
            phase_flip = _step_rate(no_loss, q, -1, 0, step.dt)
    elif protocol.kappa1 > 0:
        steps = round(step.data["horizon"] / step.dt)
        every = max(steps // 60, 1)
        marks, values = iterate_step(
            kraus, cat_state, steps - steps % every, [parity], every=every,
            progress=lambda n, total: report("iterating the compiled step", n, total),
        )  # fmt: skip
        bit_flip = offset_decay_rate(marks * step.dt, values[0])
    report(step.stage, 3, 4)
    observables = {
        "bit_flip_rate": bit_flip, "phase_flip_rate": phase_flip, "dt": step.dt,
        "step_error": step_error,
        "method": "compiled step's Kraus operators (Aer unitaries): parity-sector "
        "eigenvalues of the step channel" if protocol.cutoff <= MAX_SPECTRUM_CUTOFF
        else "compiled step's Kraus operators (Aer unitaries) iterated numerically, "
        "rate of the differences",
    }  # fmt: skip
    ideal = {
        "bit_flip_rate": ideal_bit_flip,
        "parity_after_steps": _after_steps(kraus, cat_state, step.steps_on_device, parity),
        "method": "Lindbladian at the cutoff: parity-sector eigenvalue (QuTiP); the state "
        "after the device steps by iterating the compiled step",
    }  # fmt: skip
    return observables, ideal


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


def _step_rate(kraus: Sequence, q: np.ndarray, sector: int, index: int, dt: float) -> float:
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
