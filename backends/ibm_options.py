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
    """

    mode: str = "batch"
    dynamical_decoupling: str | None = None
    twirling: str = "none"
    max_execution_time: int | None = None

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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
