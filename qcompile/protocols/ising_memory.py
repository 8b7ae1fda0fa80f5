r"""The dissipative 2D Ising memory of seed 004 (Lieu, Liu, Gorshkov, PRL 133, 030601), spec 004.

M×M torus of qubits, H = 0, jump operators (eq. 6 with the spec's correction √κ on L^(4)):

* bit-flip noise L' = √Δ X_i on every site;
* L^(4) = √κ X_i P⁻P⁻P⁻P⁻ (all four bonds of site i are domain walls);
* four rotated L^(3) = √κ̃ X_i P⁺P⁻P⁻P⁻ (exactly three walls), κ̃ = √(Δκ + Δ²) − Δ.

Every jump is X_i times a Z-diagonal projector, so from |0̄⟩ = |00…0⟩ the dynamics is the
continuous-time Markov chain of single flips at rates w(n) = Δ (n ≤ 2), Δ + κ̃ (3), Δ + κ (4),
n = misaligned neighbours; detailed balance with the Ising model at β = ln((κ+Δ)/Δ)/8
(eq. 7; w(4)/w(0) = e^{8β}, w(3)/w(1) = e^{4β}). β_c = ln(1+√2)/2 ⇔ Δ_c/κ = 0.030330.
Decoder: majority vote ("flip the smaller domain"); the decoded overlap from |0̄⟩ is
P(majority 0) exactly, and the logical channel is a bit flip with probability 1 − p (§3.2).

Circuits (§8 "for the compiler"): one collision per site and step, an ancilla rotated by a
uniformly controlled R_Y conditioned on the site and its neighbours (sin²(θ/2) = 1 − e^{−w(n)δt},
bit-flip noise and correction combined, since both apply X_i), CX onto the site, reset.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
from qiskit.circuit import ClassicalRegister, QuantumCircuit, QuantumRegister
from qiskit.circuit.library import UCRYGate

from qcompile.errors import InvalidParameter, ResourceLimit
from qcompile.protocols.ising_decoder import (
    majority_observable,
    majority_success,
    majority_weights,
)
from qcompile.protocols.parameters import ESTIMATOR_OPTIONS, Parameter
from qcompile.resources import available_memory, check_time_steps
from qcompile.states.mitigated_counts import MitigatedCounts

__all__ = [
    "exponential_fit",
    "BETA_C",
    "DELTA_C",
    "IsingMemory",
    "ising_memory",
    "kappa_tilde",
    "inverse_temperature",
    "flip_rates",
    "neighbours",
    "majority_success",
    "majority_observable",
    "majority_weights",
    "NAME",
    "PARAMETERS",
]

NAME = "ising-memory"
#: Which runner executes this protocol (``qcompile.run.recipe``).
RUNNER = "ising"
SUMMARY = "passively protected 2D Ising memory, exact trajectories and decoder (spec 004)"
#: ``qcompile run ising-memory``: help, default backend, backend options (qcompile.cli.generated).
RUN_HELP = "The dissipative 2D Ising memory (spec 004): decoded success from |0> after time T."
DEFAULT_BACKEND = "reference"
CLI_OPTIONS = ("backend", "shots", "mitigate_readout", "plot")
BETA_C = math.log(1 + math.sqrt(2)) / 2
DELTA_C = 1 / ((1 + math.sqrt(2)) ** 4 - 1)  # Δ_c/κ at β_c
MAX_SIZE = 64
MAX_CIRCUIT_SIZE = 3
MAX_CIRCUIT_COLLISIONS = 2000  # steps × sites: Aer simulates every shot through every reset
BYTES_PER_TRAJECTORY = 16
BOOTSTRAP = 400  # resamples for the standard error of readout-mitigated counts
PARAMETERS = (
    Parameter(
        "size", "int", 3, f"an integer 2 <= M <= {MAX_SIZE} (circuits: M <= 3)", listable=True
    ),
    Parameter("delta", "float", 0.02, "delta > 0; bit-flip rate (units of kappa)", listable=True),
    Parameter("kappa", "float", 1.0, "kappa > 0; correction rate of L^(4)"),
    Parameter("time", "float", 800.0, "time > 0; memory time T"),
    Parameter("trajectories", "int", 100_000, "an integer >= 1 that fits in memory"),
    Parameter("dt", "float", 0.5, "0 < dt <= time, time/dt an integer; circuit collision step"),
)

#: Options of this protocol's run (``qcompile sweep --option name=value``, recipes).
RUN_OPTIONS = (
    Parameter("zne", "str", None, "odd scale factors from 1, e.g. 1,3,5; zero-noise "
              "extrapolation of the decoded success (device-noise circuit backends)"),
    *ESTIMATOR_OPTIONS,
)  # fmt: skip


def kappa_tilde(delta: float, kappa: float) -> float:
    """κ̃ = √(Δκ + Δ²) − Δ, the rate of the L^(3) dissipators."""
    return math.sqrt(delta * kappa + delta**2) - delta


def inverse_temperature(delta: float, kappa: float) -> float:
    """β = ln((κ + Δ)/Δ)/8 (eq. 7)."""
    return math.log((kappa + delta) / delta) / 8


def flip_rates(delta: float, kappa: float) -> tuple[float, float, float, float, float]:
    """w(n) for n = 0..4 misaligned neighbours."""
    kt = kappa_tilde(delta, kappa)
    return (delta, delta, delta, delta + kt, delta + kappa)


def neighbours(size: int) -> np.ndarray:
    """The four neighbour slots (right, left, up, down) of every site x·M + y on the torus."""
    m = size
    return np.array(
        [[((x + 1) % m) * m + y, ((x - 1) % m) * m + y, x * m + (y + 1) % m, x * m + (y - 1) % m]
         for x in range(m) for y in range(m)]
    )  # fmt: skip


@dataclass(frozen=True)
class IsingMemory:
    """Validated parameters of one memory experiment."""

    size: int = 3
    delta: float = 0.02
    kappa: float = 1.0
    time: float = 800.0
    trajectories: int = 100_000
    dt: float = 0.5
    name: str = NAME

    def parameters(self) -> dict:
        return {
            "size": self.size,
            "delta": self.delta,
            "kappa": self.kappa,
            "time": self.time,
            "trajectories": self.trajectories,
            "dt": self.dt,
        }

    @property
    def sites(self) -> int:
        return self.size * self.size

    @property
    def beta(self) -> float:
        return inverse_temperature(self.delta, self.kappa)

    @property
    def phase(self) -> str:
        return (
            "ordered (low temperature)" if self.beta > BETA_C else "disordered (high temperature)"
        )

    def rates(self) -> tuple[float, float, float, float, float]:
        return flip_rates(self.delta, self.kappa)

    @property
    def num_qubits(self) -> int:
        return self.sites + 1  # the sites and one reused ancilla

    def check_fits(self, device_qubits: int | None, where: str) -> None:
        if self.size > MAX_CIRCUIT_SIZE:
            raise ResourceLimit(
                f"circuits are built for M <= {MAX_CIRCUIT_SIZE} (M = {self.size}: "
                f"{self.num_qubits} qubits and ~{35 * self.sites} CX per collision step); use "
                "--backend reference for the exact trajectories"
            )
        steps = round(self.time / self.dt)
        if steps * self.sites > MAX_CIRCUIT_COLLISIONS:
            raise ResourceLimit(
                f"{steps} collision rounds × {self.sites} sites = {steps * self.sites} collisions "
                f"exceed {MAX_CIRCUIT_COLLISIONS} for circuits: shorten --time or lengthen --dt "
                f"(at most {MAX_CIRCUIT_COLLISIONS // self.sites} rounds for M = {self.size})"
            )
        if device_qubits is not None and device_qubits < self.num_qubits:
            raise ResourceLimit(f"the circuits need {self.num_qubits} qubits; {where} has fewer")

    # -- circuits ------------------------------------------------------------------------------
    def flip_probabilities(self, dt: float) -> np.ndarray:
        """1 − e^{−w(n)δt} for n = 0..4."""
        return 1 - np.exp(-np.asarray(self.rates()) * dt)

    def _site_controls(self, site: int) -> tuple[list[int], list[int]]:
        """Distinct control qubits [site, neighbours...] and each neighbour slot's control."""
        slots = list(neighbours(self.size)[site])
        distinct = sorted(set(slots))
        return [site, *distinct], [1 + distinct.index(s) for s in slots]

    def collision(self, site: int, dt: float) -> tuple[list[float], list[int]]:
        """UCRY angles over the controls of ``site`` (little-endian pattern index) and the
        control qubits: the ancilla turns with sin²(θ/2) = 1 − e^{−w(n)δt}."""
        controls, slot_index = self._site_controls(site)
        probabilities = self.flip_probabilities(dt)
        angles = []
        for pattern in range(1 << len(controls)):
            bit = [(pattern >> k) & 1 for k in range(len(controls))]
            misaligned = sum(bit[j] != bit[0] for j in slot_index)
            angles.append(2 * math.asin(math.sqrt(probabilities[misaligned])))
        return angles, controls

    def circuit(self, steps: int | None = None, dt: float | None = None) -> QuantumCircuit:
        """|0̄⟩, ``steps`` collision rounds (sites in order; default: the rounds that reach
        the memory time), every site measured."""
        dt = self.dt if dt is None else dt
        if steps is None:
            steps = max(1, round(self.time / dt))
        sites = QuantumRegister(self.sites, "site")
        ancilla = QuantumRegister(1, "anc")
        readout = ClassicalRegister(self.sites, "c")
        qc = QuantumCircuit(sites, ancilla, readout, name=f"ising_memory_M{self.size}")
        gates = []
        for site in range(self.sites):
            angles, controls = self.collision(site, dt)
            gates.append((UCRYGate(angles), [sites[c] for c in controls]))
        for _ in range(steps):
            for site, (gate, controls) in enumerate(gates):
                qc.append(gate, [ancilla[0], *controls])
                qc.cx(ancilla[0], sites[site])
                qc.reset(ancilla[0])
        qc.measure(sites, readout)
        return qc

    def collision_chain_success(self, steps: int, dt: float | None = None) -> float:
        """The circuit's exact answer: the discrete-time chain of sequential site collisions
        (each flips site i with probability 1 − e^{−w(n_i)δt}) on all 2^{M²} configurations,
        decoded by majority. Differs from the continuous-time chain by O(δt)."""
        dt = self.dt if dt is None else dt
        ns = self.sites
        if ns > 16:
            raise ResourceLimit("the exact collision chain is built for M <= 4")
        configs = np.arange(1 << ns)
        bits = ((configs[:, None] >> np.arange(ns)[None, :]) & 1).astype(np.int8)
        nb = neighbours(self.size)
        flip = self.flip_probabilities(dt)
        p = np.zeros(configs.size)
        p[0] = 1.0
        per_site = []
        for i in range(ns):
            misaligned = (bits[:, nb[i]] != bits[:, [i]]).sum(axis=1)
            per_site.append(flip[misaligned])
        for _ in range(steps):
            for i in range(ns):
                moved = p * per_site[i]
                p = p - moved
                np.add.at(p, configs ^ (1 << i), moved)
        ones = bits.sum(axis=1)
        return float(p[2 * ones < ns].sum() + 0.5 * p[2 * ones == ns].sum())

    def jump_operators(self) -> list[np.ndarray]:
        """The 6M² Lindblad operators of eq. (6) as 2^{M²}-dimensional matrices (M ≤ 3):
        √Δ X_i, √κ X_i P⁻P⁻P⁻P⁻ and four √κ̃ X_i P⁺P⁻P⁻P⁻. Qubit i is bit i (|↓⟩ = |0⟩)."""
        if self.sites > 9:
            raise ResourceLimit("dense jump operators are built for M <= 3")
        ns = self.sites
        configs = np.arange(1 << ns)
        z = 1 - 2 * ((configs[:, None] >> np.arange(ns)[None, :]) & 1)
        nb = neighbours(self.size)
        kt = kappa_tilde(self.delta, self.kappa)
        ops = []
        for i in range(ns):
            flip = np.zeros((configs.size, configs.size))
            flip[configs ^ (1 << i), configs] = 1.0
            walls = [(z[:, i] != z[:, j]).astype(float) for j in nb[i]]
            ops.append(math.sqrt(self.delta) * flip)
            ops.append(math.sqrt(self.kappa) * flip @ np.diag(np.prod(walls, axis=0)))
            for aligned in range(4):
                mask = np.prod([1 - w if k == aligned else w for k, w in enumerate(walls)], axis=0)
                ops.append(math.sqrt(kt) * flip @ np.diag(mask))
        return ops


def _positive(name: str, value, allowed: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise InvalidParameter(name, value, allowed) from None
    if not (math.isfinite(number) and number > 0):
        raise InvalidParameter(name, value, allowed)
    return number


def ising_memory(
    *,
    size: int = 3,
    delta: float = 0.02,
    kappa: float = 1.0,
    time: float = 800.0,
    trajectories: int = 100_000,
    dt: float = 0.5,
    memory_limit: float | None = None,
) -> IsingMemory:
    """Validate the physical parameters (spec 004 §3) and build the protocol."""
    if isinstance(size, bool) or not (
        isinstance(size, (int, float)) and 2 <= size <= MAX_SIZE and int(size) == size
    ):
        raise InvalidParameter("size", size, f"an integer 2 <= M <= {MAX_SIZE}")
    delta = _positive("delta", delta, "delta > 0")
    kappa = _positive("kappa", kappa, "kappa > 0")
    time = _positive("time", time, "time > 0")
    dt = _positive("dt", dt, "0 < dt <= time")
    check_time_steps(time, dt, horizon="time")
    steps = time / dt
    if dt > time or abs(steps - round(steps)) > 1e-9:
        raise InvalidParameter("dt", dt, "0 < dt <= time with time/dt an integer")
    if isinstance(trajectories, bool) or int(trajectories) != trajectories or trajectories < 1:
        raise InvalidParameter("trajectories", trajectories, "an integer >= 1")
    limit = memory_limit if memory_limit is not None else 0.5 * available_memory()
    fits = int(limit // BYTES_PER_TRAJECTORY)
    if trajectories > fits:
        raise InvalidParameter(
            "trajectories", trajectories, f"at most {fits} trajectories fit in memory here"
        )
    return IsingMemory(
        size=int(size), delta=delta, kappa=kappa, time=time, trajectories=int(trajectories), dt=dt
    )


def from_mapping(values: Mapping[str, object]) -> IsingMemory:
    """Build from a parameter mapping (CLI ``--param``/JSON), keys as in :data:`PARAMETERS`."""
    return ising_memory(**dict(values))


def exponential_fit(sizes, failures, errors) -> dict[str, float] | None:
    """Weighted least squares of ln(1 − p) = a − γM over the points with failures."""
    points = [(m, f, e) for m, f, e in zip(sizes, failures, errors, strict=True) if f > 0 and e > 0]
    if len(points) < 2:
        return None
    m = np.array([p[0] for p in points], float)
    y = np.log([p[1] for p in points])
    w = np.array([(p[1] / p[2]) ** 2 for p in points])  # 1/σ² of ln(1-p) ≈ (f/σ_f)²
    design = np.vstack([np.ones_like(m), -m]).T
    coef = np.linalg.lstsq(design * np.sqrt(w)[:, None], y * np.sqrt(w), rcond=None)[0]
    return {"a": float(coef[0]), "gamma": float(coef[1]), "points": len(points)}


# -- data flow (qcompile's one runner, qcompile.run.pipeline) -------------------------------
#: Circuit backends sample even when ideal: the circuit's exact answer is the collision chain.
ALWAYS_SAMPLES = True
#: Largest M whose reference is the exact classical master equation.
EXACT_MAX_SIZE = 4


def reference(protocol: IsingMemory, solvers: Mapping) -> dict:
    """β against β_c, the rates and — for M ≤ 4 — the exact success probability of the
    continuous-time chain (``solvers["exact_memory"]``: the symmetry-lumped classical master
    equation)."""
    out = {
        "beta": protocol.beta,
        "beta_c": BETA_C,
        "delta_c_over_kappa": DELTA_C,
        "phase": protocol.phase,
        "rates": list(protocol.rates()),
        "success_probability": None,
    }
    if protocol.size <= EXACT_MAX_SIZE:
        out["success_probability"] = solvers["exact_memory"](
            protocol.size, protocol.rates(), protocol.time
        )
        out["method"] = "exact classical master equation (symmetry-lumped)"
    return out


def simulate(protocol: IsingMemory, solvers: Mapping, seed: int, report) -> dict:
    """The ``reference`` backend's observables: ``trajectories`` exact trajectories (kinetic
    Monte Carlo, ``solvers["kmc"]``), decoded, with their standard error."""
    report("trajectories", 0, protocol.trajectories)
    kmc = solvers["kmc"](
        protocol.size,
        protocol.rates(),
        protocol.time,
        protocol.trajectories,
        seed=seed,
        progress=lambda done, total: report("trajectories", done, total),
    )
    return {
        "success_probability": kmc.success_probability,
        "success_probability_stderr": kmc.stderr,
        "trajectories": kmc.trajectories,
        "ties": kmc.ties,
        "mean_events": kmc.mean_events,
        "seconds": kmc.seconds,
        "method": "kinetic Monte Carlo (exact trajectories)",
    }


def lower(protocol: IsingMemory) -> list[QuantumCircuit]:
    """The collision circuit up to the memory time, every site measured (§8)."""
    return [protocol.circuit(round(protocol.time / protocol.dt))]


def ideal(protocol: IsingMemory) -> dict:
    """The circuit's exact answer: the discrete-time collision chain (O(δt) from the
    continuous one)."""
    steps = round(protocol.time / protocol.dt)
    return {
        "success_probability": protocol.collision_chain_success(steps),
        "method": f"exact collision chain, {steps} rounds of dt = {protocol.dt:g}",
    }


def compile_circuit(protocol: IsingMemory) -> tuple[QuantumCircuit, str | None]:
    """What ``qcompile compile ising-memory`` compiles (plugin interface): the circuit
    ``run --backend aer`` would run — the collision rounds that reach ``time`` — or, when those
    are more than a circuit backend runs (the default T = 800 is 1600 rounds), one round,
    with a note saying so. M > 3 is refused as for a run."""
    rounds = max(1, round(protocol.time / protocol.dt))
    try:
        protocol.check_fits(None, "a circuit")
    except ResourceLimit:
        if protocol.size > MAX_CIRCUIT_SIZE:
            raise
        most = MAX_CIRCUIT_COLLISIONS // protocol.sites
        note = (
            f"compiled one collision round (dt = {protocol.dt:g}): T = {protocol.time:g} is "
            f"{rounds} rounds, more than a circuit backend runs ({most} for M = "
            f"{protocol.size}); give --time <= {most * protocol.dt:g} to compile what "
            "`qcompile run ising-memory --backend aer` runs"
        )
        return protocol.circuit(steps=1), note
    return protocol.circuit(), None


def circuit_info(protocol: IsingMemory) -> dict:
    """The collision rounds and their step, beside the compiled circuit's metrics."""
    return {
        "rounds": round(protocol.time / protocol.dt),
        "dt": protocol.dt,
        "rounds_per_unit_time": 1 / protocol.dt,
    }


def estimate(protocol: IsingMemory, counts: list, rng: np.random.Generator) -> dict:
    """The majority-decoded success from the site readout; readout-mitigated counts get its
    standard error from resampling their raw counts and calibration (the inversion's
    variance included, ``BOOTSTRAP`` resamples)."""
    (table,) = counts
    success, error = majority_success(table, protocol.sites)
    if isinstance(table, MitigatedCounts):
        error = table.stderr_of(majority_weights(protocol.sites), rng, BOOTSTRAP)
    return {
        "success_probability": success,
        "success_probability_stderr": error,
        "shots": round(sum(getattr(table, "raw", table).values())),
        "method": "collision circuit, majority-decoded shots",
    }


def estimator_observables(protocol: IsingMemory, circuits: list) -> list:
    """The decoded success as one Z-diagonal observable on the sites (the Estimator path)."""
    return [[majority_observable(protocol.sites, c.num_qubits)] for c in circuits]


def from_expectations(
    protocol: IsingMemory, data: list, *, shots: int, resilience_level: int
) -> dict:
    """The success and its standard error from the Estimator's expectation value."""
    (values,) = data
    return {
        "success_probability": float(values["evs"][0]),
        "success_probability_stderr": float(values["stds"][0]),
        "shots": shots,
        "method": "collision circuit, majority projector through the Estimator "
        f"(level {resilience_level})",
    }


def render(results: list, console) -> None:
    """The run's table (plugin interface): :mod:`qcompile.protocols.rendering.ising_memory`."""
    from qcompile.protocols.rendering.ising_memory import render_ising

    render_ising(results, console)


def sweep_summary(results: list) -> dict:
    """The JSON of a run over several M or Δ: the fits of 1 − p against M, beside the sweep."""
    from qcompile.protocols.rendering.ising_memory import size_fits

    return {"fits": size_fits(results)[0]}


def figure(result):
    """The run's figure (plugin interface): :func:`sweep_figure` of one point."""
    return sweep_figure([result])


def sweep_figure(results: list):
    """Several points' figure (plugin interface): success vs M for each Δ (spec 004 Fig. 2)."""
    from qcompile.protocols.rendering.figures import ising_figure

    return ising_figure(results)
