r"""``lindblad``: a user's own open system of qubits, through the same pipeline as the seeds.

.. math:: \dot\rho = -i[H(t), \rho] + \sum_k \big(L_k\rho L_k^\dagger
          - \tfrac12\{L_k^\dagger L_k, \rho\}\big)

The model comes from a TOML file (format: :mod:`qcompile.protocols.lindblad_file`) or from a
Python :class:`~qcompile.model.OpenSystem`. It is solved exactly with QuTiP (the reference),
lowered by :func:`qcompile.lowering.dynamics.lower_dynamics` (product formula per step, one
collision with a reset ancilla per jump operator, channels as Stinespring blocks), compiled by
the pass layer and run on any backend; the observables ⟨O⟩(t) = tr ρ(t) O are reported for the
three answers (device tomography with bootstrap errors, ideal circuit, reference).

A TOML model is stored with the run as its parsed table, so a stored run, a sweep point or an
IBM job fetched later is replayed without the file.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from qiskit.circuit import QuantumCircuit

from qcompile.errors import InvalidParameter
from qcompile.lowering.dynamics import lower_dynamics
from qcompile.model import OpenSystem
from qcompile.protocols.lindblad_file import LindbladModel, load_model, parse_model
from qcompile.protocols.open_system_flow import (
    check_device,
    check_lowering,
    estimate_states,
    lower_evolution,
    measured_qubits,
    reference,
    resolve_options,
    run_parameters,
)
from qcompile.protocols.parameters import ESTIMATOR_OPTIONS, Parameter
from qcompile.protocols.plugin import one_runner
from qcompile.resources import check_evolution_time, check_time_steps

__all__ = [
    "Lindblad", "lindblad", "check_lowering", "DEFAULT_LOWERING", "NAME", "PARAMETERS",
    # the data flow (qcompile.protocols.open_system_flow), run by the one runner's states path
    "check_device", "estimate_states", "lower_evolution", "measured_qubits", "reference",
    "resolve_options", "run_parameters",
]  # fmt: skip

NAME = "lindblad"
RUNNER = "open-system"
SUMMARY = "your own open system of qubits: a TOML model or a Python OpenSystem"
#: ``qcompile run lindblad``: its help and default backend (qcompile.cli.generated).
RUN_HELP = (
    "Your own open system of qubits (a TOML model, --model): observables vs time on the "
    "backend, the ideal circuit and QuTiP's master equation."
)
DEFAULT_BACKEND = "aer:fake_torino"
#: Lowering defaults; a model's [lowering] table and the CLI options override them.
DEFAULT_LOWERING = {"rule": "midpoint", "synthesis": "trotter", "order": 2, "collision": "exact"}
MAX_DEVICE_QUBITS = 4
PARAMETERS = (
    Parameter(
        "model",
        "path",
        None,
        "a TOML model file (qubits, times, hamiltonian, jump, ...)",
        help="the open system; format in qcompile.protocols.lindblad_file",
    ),  # fmt: skip
    Parameter(
        "t_max", "float", None, "t_max > 0; overrides the model's times.t_max", unit="model time"
    ),  # fmt: skip
    Parameter(
        "dt",
        "float",
        None,
        "0 < dt <= t_max, t_max/dt an integer; overrides times.dt",
        unit="model time",
    ),  # fmt: skip
    Parameter(
        "sample_every",
        "float",
        None,
        "a multiple of dt; overrides times.sample_every",
        unit="model time",
    ),  # fmt: skip
)

#: Options of this protocol's run (``qcompile sweep --option name=value``, recipes).
RUN_OPTIONS = (
    Parameter("rule", "str", None, "midpoint | left | end | rotating (coefficient sampling)"),
    Parameter("synthesis", "str", None, "trotter | exact (one unitary per step)"),
    Parameter("order", "int", None, "1 or 2 (product-formula order)"),
    Parameter("collision", "str", None, "exact | dilation | channel (jump operators)"),
    Parameter("device_every", "int", 1, "an integer >= 1: tomograph every k-th time"),
    *ESTIMATOR_OPTIONS,
)

#: Options of ``qcompile compile lindblad`` besides the parameters: the lowering's.
COMPILE_OPTIONS = RUN_OPTIONS[:4]


@dataclass(frozen=True)
class Lindblad:
    """A validated open-system protocol; build it with :func:`lindblad`."""

    system: OpenSystem
    t_max: float
    dt: float
    sample_every: float
    lowering: dict[str, Any] = field(default_factory=dict)
    model: Mapping[str, Any] | None = None  # the TOML table, when built from one
    title: str = "lindblad"

    name = NAME

    def parameters(self) -> dict[str, Any]:
        """The JSON parameter block: the model table itself, so the run replays without it."""
        return {
            "model": None if self.model is None else dict(self.model),
            "t_max": self.t_max,
            "dt": self.dt,
            "sample_every": self.sample_every,
            "title": self.title,
            "qubits": len(self.system.dims),
            "observables": list(self.system.observables),
        }

    @property
    def num_qubits(self) -> int:
        return len(self.system.dims)

    def sample_times(self) -> list[float]:
        """Reported times: multiples of ``sample_every`` and the channel times, on the dt grid."""
        steps = round(self.t_max / self.dt)
        every = max(1, round(self.sample_every / self.dt))
        ticks = set(range(0, steps + 1, every)) | {steps}
        ticks |= {round(c.time / self.dt) for c in self.system.channels if c.time <= self.t_max}
        return [round(k * self.dt, 12) for k in sorted(ticks)]

    def open_system(self) -> OpenSystem:
        return self.system

    def frame(self) -> None:
        return None

    def lowering_options(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The lowering: defaults, then the model's [lowering], then ``overrides``."""
        given = {k: v for k, v in dict(overrides or {}).items() if v is not None}
        options = DEFAULT_LOWERING | dict(self.lowering) | given
        check_lowering(options)
        return options

    def with_lowering(self, overrides: Mapping[str, Any]) -> Lindblad:
        """The same protocol with its lowering options overridden (``None`` keeps one)."""
        return replace(self, lowering=self.lowering_options(overrides))

    def check_fits(self, device_qubits: int | None, where: str) -> None:
        """Refuse before any work a register (qubits + one ancilla) larger than the device."""
        need = self.num_qubits + 1
        if device_qubits is not None and need > device_qubits:
            raise InvalidParameter(
                "model", f"{self.num_qubits} qubits", f"at most {device_qubits - 1} on {where}"
            )

    def check_device(self, shots: int | None, noisy: bool) -> None:
        """Device runs tomograph every qubit (3^n settings per time): at most 4 qubits."""
        if (noisy or shots is not None) and self.num_qubits > MAX_DEVICE_QUBITS:
            raise InvalidParameter(
                "model",
                f"{self.num_qubits} qubits with shots",
                f"at most {MAX_DEVICE_QUBITS} qubits for shot-based tomography "
                "(use --backend aer without --shots for larger models)",
            )

    measured_subsystems = None  # the observables need every qubit

    def estimate(
        self, times: Sequence[float], states: Sequence[np.ndarray]
    ) -> dict[str, list[float]]:
        """⟨O⟩ = tr ρ O for every observable, one value per state (model tensor order)."""
        return {
            name: [float(np.real(np.trace(rho @ op))) for rho in states]
            for name, op in self.system.observables.items()
        }

    def circuit(self) -> QuantumCircuit:
        """The lowered circuit with the default lowering (what ``qcompile compile`` compiles)."""
        return lower_dynamics(
            self.system, t_max=self.t_max, dt=self.dt, **self.lowering_options()
        ).circuit


def _time(name: str, value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise InvalidParameter(name, value, "a number > 0")
    if not (math.isfinite(value) and value > 0):
        raise InvalidParameter(name, value, "a finite number > 0")
    return float(value)


def lindblad(
    model: str | Path | Mapping[str, Any] | None = None,
    *,
    system: OpenSystem | None = None,
    t_max: float | None = None,
    dt: float | None = None,
    sample_every: float | None = None,
    lowering: Mapping[str, Any] | None = None,
    title: str | None = None,
) -> Lindblad:
    """A user's open system: ``model`` (a TOML path or its parsed table) or ``system``.

    ``t_max``, ``dt`` and ``sample_every`` override the model's ``[times]``; with a Python
    ``system`` they are required (``sample_every`` defaults to t_max/10).
    """
    if (model is None) == (system is None):
        raise InvalidParameter("model", model, "a TOML model file or an OpenSystem (one of them)")
    t_max, dt = _time("t_max", t_max), _time("dt", dt)
    sample_every = _time("sample_every", sample_every)
    table = None
    if model is not None:
        table = load_model(model) if isinstance(model, (str, Path)) else dict(model)
        times = dict(table.get("times", {})) if isinstance(table.get("times"), Mapping) else None
        if times is not None:
            for key, value in (("t_max", t_max), ("dt", dt), ("sample_every", sample_every)):
                if value is not None:
                    times[key] = value
            table = {**table, "times": times}
        try:
            parsed: LindbladModel = parse_model(table)
        except InvalidParameter as exc:  # an overridden time is named as it was given
            key = exc.name.removeprefix("times.")
            given = {"t_max": t_max, "dt": dt, "sample_every": sample_every}
            if exc.name.startswith("times.") and given.get(key) is not None:
                raise InvalidParameter(key, exc.value, exc.allowed) from None
            if exc.name == "times.sample_every" and dt is not None:  # the file's, the user's dt
                raise InvalidParameter(
                    "dt", dt, f"a divisor of the model's sample_every = {exc.value:g}"
                ) from None
            if exc.name == "times.dt" and t_max is not None:  # the file's dt, the user's t_max
                raise InvalidParameter(
                    "t_max", t_max, f"a multiple of the model's dt = {exc.value:g}"
                ) from None
            raise
        system = parsed.system
        t_max, dt, sample_every = parsed.t_max, parsed.dt, parsed.sample_every
        lowering = dict(parsed.lowering) | dict(lowering or {})
        title = title or parsed.name
    else:
        if not isinstance(system, OpenSystem):
            raise InvalidParameter("system", type(system).__name__, "a qcompile.OpenSystem")
        if any(d != 2 for d in system.dims):
            raise InvalidParameter("system.dims", system.dims, "qubits only (dimension 2 each)")
        if not system.observables:
            raise InvalidParameter("system.observables", {}, "at least one named observable")
        if t_max is None or dt is None:
            raise InvalidParameter("t_max", t_max, "t_max and dt, both > 0, with an OpenSystem")
        sample_every = sample_every or t_max / 10
        steps = check_time_steps(t_max, dt)
        if dt > t_max or abs(steps * dt - t_max) > 1e-9 * max(1.0, t_max):
            raise InvalidParameter("dt", dt, f"a divisor of t_max = {t_max:g}")
        k = sample_every / dt
        if abs(k - round(k)) > 1e-9 or round(k) < 1:
            raise InvalidParameter("sample_every", sample_every, f"a multiple of dt = {dt:g}")
    check_lowering(dict(lowering or {}))
    check_reference_work(system, t_max)
    return Lindblad(system, t_max, dt, sample_every, dict(lowering or {}), table,
                    title or "lindblad")  # fmt: skip


#: Largest t_max × fastest rate × dim² the QuTiP reference integrates: one qubit at a jump
#: rate of 1e5 to t = 6 (6e5 × 4) takes about two minutes here.
REFERENCE_WORK = 4e6


def fastest_rate(system: OpenSystem, t_max: float, samples: int = 101) -> float:
    """‖H‖ + Σ‖L_k‖² + Σ max|c(t)|·‖H_j‖ over [0, t_max] (spectral norms): the rate whose
    inverse bounds the step of the reference's adaptive solver."""
    rate = 0.0 if system.hamiltonian is None else float(np.linalg.norm(system.hamiltonian, 2))
    rate += sum(float(np.linalg.norm(jump, 2)) ** 2 for jump in system.jump_operators)
    times = np.linspace(0.0, t_max, samples)
    for term in system.time_dependent:
        peak = max(abs(float(term.coefficient(t))) for t in times)
        rate += peak * float(np.linalg.norm(term.operator, 2))
    return rate


def check_reference_work(system: OpenSystem, t_max: float) -> None:
    """Refuse a model whose reference integration would take hours, with the estimate."""
    dim = int(np.prod(system.dims))  # a solver step costs ~dim² (the density matrix)
    check_evolution_time("t_max", t_max, fastest_rate(system, t_max),
                         "--t-max or the model's rates", limit=REFERENCE_WORK / dim**2)  # fmt: skip


def from_mapping(values: Mapping[str, Any]) -> Lindblad:
    """Build from a parameter mapping (CLI ``--param``, a sweep point, a stored recipe)."""
    known = {p.name for p in PARAMETERS} | {"title", "qubits", "observables"}
    for key in values:
        if key not in known:
            raise InvalidParameter(key, values[key], "a lindblad parameter: " + ", ".join(
                p.name for p in PARAMETERS))  # fmt: skip
    if values.get("model") is None:
        raise InvalidParameter(
            "model",
            None,
            "a TOML model file, required (e.g. examples/amplitude_damping.toml; "
            "a Python OpenSystem cannot be replayed)",
        )
    return lindblad(
        values["model"],
        t_max=values.get("t_max"),
        dt=values.get("dt"),
        sample_every=values.get("sample_every"),
    )


#: This protocol's run (plugin interface): qcompile's one runner over the data flow above.
run = one_runner(__name__)


def describe(result) -> list[str]:
    """Lines above the run's comparison (plugin interface):
    :func:`qcompile.protocols.rendering.lindblad.describe`."""
    from qcompile.protocols.rendering.lindblad import describe

    return describe(result)


def for_compile(protocol: Lindblad, options: Mapping[str, Any]) -> Lindblad:
    """What ``qcompile compile lindblad`` compiles (plugin interface): the model with its
    lowering options (``COMPILE_OPTIONS``) overridden."""
    return protocol.with_lowering(options)
