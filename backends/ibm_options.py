"""Execution options of IBM Quantum jobs: mode, dynamical decoupling, Pauli twirling.

What ``qcompile.backends.ibm.IBMBackend`` hands to runtime's client-side primitives (the
Sampler's ``SamplerOptions`` as a plain dict; the Estimator's are built in
``qcompile.backends.estimator``). Checked when built, so a bad option fails before any work.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from qcompile.errors import InvalidParameter

__all__ = ["DD_SEQUENCES", "IBMOptions", "MODES", "TWIRLING"]

MODES = ("batch", "session", "job")
DD_SEQUENCES = ("XX", "XpXm", "XY4")
TWIRLING = ("none", "gates", "measure", "all")


@dataclass(frozen=True)
class IBMOptions:
    """Execution mode and the primitive's error-suppression options.

    ``dynamical_decoupling``: ``None`` or a sequence of :data:`DD_SEQUENCES`;
    ``twirling``: one of :data:`TWIRLING` (Pauli twirling of two-qubit gates, of
    measurements, or both); ``max_execution_time`` in seconds (``None``: the service's).
    On ``aer:<fake backend>`` the same ``dynamical_decoupling`` and ``twirling`` are applied
    locally (:mod:`qcompile.backends.error_suppression`), and ``idle_noise`` schedules the
    circuits so idle qubits decohere (implied by DD; a device always has it).
    """

    mode: str = "batch"
    dynamical_decoupling: str | None = None
    twirling: str = "none"
    max_execution_time: int | None = None
    idle_noise: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidParameter("mode", self.mode, "one of " + ", ".join(MODES))
        if self.dynamical_decoupling not in (None, *DD_SEQUENCES):
            raise InvalidParameter(
                "dynamical_decoupling",
                self.dynamical_decoupling,
                "none or one of " + ", ".join(DD_SEQUENCES),
            )
        if self.twirling not in TWIRLING:
            raise InvalidParameter("twirling", self.twirling, "one of " + ", ".join(TWIRLING))
        if not isinstance(self.idle_noise, bool):
            raise InvalidParameter("idle_noise", self.idle_noise, "true or false")
        if self.max_execution_time is not None and not (
            isinstance(self.max_execution_time, int) and self.max_execution_time > 0
        ):
            raise InvalidParameter(
                "max_execution_time", self.max_execution_time, "a positive integer (seconds)"
            )

    def sampler_options(self, shots: int, seed: int | None, local: bool) -> dict[str, Any]:
        """The ``SamplerOptions`` of the client-side Sampler, as a plain dict."""
        options: dict[str, Any] = {
            "default_shots": shots,
            "dynamical_decoupling": {
                "enable": self.dynamical_decoupling is not None,
                "sequence_type": self.dynamical_decoupling or "XX",
            },
            "twirling": {
                "enable_gates": self.twirling in ("gates", "all"),
                "enable_measure": self.twirling in ("measure", "all"),
            },
            "max_execution_time": self.max_execution_time,
        }
        if local and seed is not None:
            options["simulator"] = {"seed_simulator": int(seed)}
        return options

    @property
    def suppresses(self) -> bool:
        """Whether any error suppression (DD, twirling, idle-time noise) is asked for."""
        return self.dynamical_decoupling is not None or self.twirling != "none" or self.idle_noise

    def record(self) -> dict[str, Any]:
        """What a result records under ``mitigation`` of the error suppression runtime
        applied on the device (empty when none)."""
        out: dict[str, Any] = {}
        if self.twirling != "none":
            out["twirling"] = {
                "gates": self.twirling in ("gates", "all"),
                "measurements": self.twirling in ("measure", "all"),
                "method": "qiskit-ibm-runtime twirling options",
            }
        if self.dynamical_decoupling is not None:
            out["dynamical_decoupling"] = {
                "sequence": self.dynamical_decoupling,
                "method": "qiskit-ibm-runtime dynamical_decoupling options",
            }
        return out

    def to_dict(self) -> dict[str, Any]:
        """The options as stored (jobs, sweep plans); ``idle_noise`` only when set, so what
        was stored before it existed reads — and hashes — the same."""
        out = asdict(self)
        if not self.idle_noise:
            del out["idle_noise"]
        return out
