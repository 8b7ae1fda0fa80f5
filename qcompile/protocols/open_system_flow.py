r"""The data flow of a protocol that is an open system of qubits evolving in time —
``lindblad`` (a user's model) and coherent feedback (spec 002 §7) — as the hooks of
qcompile's one runner on its *states* path (:mod:`qcompile.run.state_pipeline`):

.. math:: \dot\rho = -i[H(t), \rho] + \sum_k \big(L_k\rho L_k^\dagger
          - \tfrac12\{L_k^\dagger L_k, \rho\}\big)

* :func:`reference`: the master equation solved exactly (the ``lindblad_reference`` solver,
  QuTiP) at the protocol's sample times, reduced to the measured subsystems, through the
  protocol's ``estimate``;
* :func:`lower_evolution`: :func:`~qcompile.lowering.dynamics.lower_dynamics` (product
  formula or exact step unitaries, one collision with a reset ancilla per jump operator),
  checkpointed at the sample times;
* :func:`measured_qubits` and :func:`estimate_states`: which circuit qubits the observables
  need, and the observables from their states;
* :func:`resolve_options`, :func:`run_parameters`, :func:`check_device`: the lowering options
  (a ``lowering`` mapping or flat ``rule``, ``synthesis``, ``order``, ``collision``) resolved
  and recorded with the run, and the checks before any work.

What these ask of the protocol object: ``open_system()``, ``t_max``, ``dt``, ``frame()``,
``sample_times()``, ``lowering_options(overrides)``, ``measured_subsystems`` (``None``: every
subsystem) and ``estimate(times, states)`` (states on the measured subsystems, model tensor
order); optionally ``check_device(shots, noisy)``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from qcompile.errors import InvalidParameter
from qcompile.lowering.dynamics import (
    COLLISIONS,
    RULES,
    SYNTHESES,
    LoweredDynamics,
    lower_dynamics,
    split_lowering_options,
)
from qcompile.model import partial_state

__all__ = [
    "MAX_CIRCUIT_STEPS",
    "check_device",
    "check_lowering",
    "estimate_states",
    "lower_evolution",
    "measured_qubits",
    "reference",
    "resolve_options",
    "run_parameters",
]

#: Most Trotter/collision steps a circuit backend runs (the 600-step feedback circuit takes
#: ~20 s on Aer; beyond this the circuits alone take gigabytes).
MAX_CIRCUIT_STEPS = 10_000

_LOWERING_NAMES = ("rule", "synthesis", "order", "collision")


def resolve_options(protocol, options: Mapping[str, Any]) -> dict[str, Any]:
    """``{"lowering": ...}``: the protocol's lowering options (its defaults, then a
    ``lowering`` mapping — a stored recipe's —, then flat ``rule=...``), checked; any other
    option is refused by name."""
    lowering, rest = split_lowering_options(dict(options))
    for name, value in rest.items():
        raise InvalidParameter(
            name, value, "a run option: lowering, " + ", ".join(_LOWERING_NAMES) + ", device_every"
        )
    resolved = protocol.lowering_options(lowering)
    check_lowering(resolved)
    return {"lowering": resolved}


def check_lowering(options: Mapping[str, Any]) -> None:
    """Refuse an unknown lowering option, rule, synthesis, collision or order, naming it."""
    for name in options:
        if name not in _LOWERING_NAMES:
            raise InvalidParameter(
                name, options[name], "a lowering option: " + ", ".join(_LOWERING_NAMES)
            )
    for name, allowed in (("rule", RULES), ("synthesis", SYNTHESES), ("collision", COLLISIONS)):
        if name in options and options[name] not in allowed:
            raise InvalidParameter(name, options[name], "one of " + ", ".join(allowed))
    if "order" in options and options["order"] not in (1, 2):
        raise InvalidParameter("order", options["order"], "1 or 2")


def run_parameters(protocol, options: Mapping[str, Any]) -> dict[str, Any]:
    """The JSON parameter block: the protocol's parameters and the lowering it ran with."""
    return protocol.parameters() | {"lowering": dict(options["lowering"])}


def check_device(protocol, shots: int | None, noisy: bool) -> None:
    """The protocol's own limits on a circuit backend (e.g. the qubits tomography can take)."""
    check = getattr(protocol, "check_device", None)
    if check is not None:
        check(shots, noisy)


def measured_subsystems(protocol) -> list[int]:
    """The model subsystems the protocol's observables need (default: all of them)."""
    keep = getattr(protocol, "measured_subsystems", None)
    n = len(protocol.open_system().dims)
    return sorted(range(n) if keep is None else keep)


def measured_qubits(protocol) -> list[int]:
    """Circuit qubits of the measured subsystems, ordered so that states little-endian over
    them are in the model's tensor order (subsystem s is circuit qubit n − 1 − s)."""
    n = len(protocol.open_system().dims)
    return [n - 1 - s for s in sorted(measured_subsystems(protocol), reverse=True)]


def reference(protocol, solvers: Mapping[str, Callable], report) -> dict[str, Any]:
    """The observables at the sample times from the exact master equation
    (``solvers["lindblad_reference"](system, times)``), with ``times``."""
    times = protocol.sample_times()
    report("reference (master equation)", 0, 1)
    system = protocol.open_system()
    solution = solvers["lindblad_reference"](system, times)
    report("reference (master equation)", 1, 1)
    keep = measured_subsystems(protocol)
    reduced = [partial_state(rho, system.dims, keep) for rho in solution.states]
    return {"times": list(times)} | protocol.estimate(times, reduced)


def lower_evolution(protocol, options: Mapping[str, Any]) -> LoweredDynamics:
    """The lowered evolution, checkpointed at the sample times (at most
    :data:`MAX_CIRCUIT_STEPS` steps: the reference alone takes more)."""
    steps = round(protocol.t_max / protocol.dt)
    if steps > MAX_CIRCUIT_STEPS:
        raise InvalidParameter(
            "dt", protocol.dt, f"t_max/dt <= {MAX_CIRCUIT_STEPS} steps on a circuit backend "
            f"({steps} asked; raise --dt, lower --t-max or use --backend reference)"
        )  # fmt: skip
    return lower_dynamics(
        protocol.open_system(),
        t_max=protocol.t_max,
        dt=protocol.dt,
        checkpoints=protocol.sample_times(),
        frame=protocol.frame(),
        **options["lowering"],
    )


def estimate_states(
    protocol, times: Sequence[float], states: Sequence[np.ndarray]
) -> dict[str, Any]:
    """The protocol's observables from the measured qubits' states at ``times``."""
    return dict(protocol.estimate(list(times), list(states)))
