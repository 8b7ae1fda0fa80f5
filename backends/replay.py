"""Finish a run from jobs already fetched: a backend whose ``run`` returns stored counts.

A run whose process died while waiting on a job is completed by executing its stored recipe
again (everything is seeded: the same compiled circuits, the same bootstrap) with this backend
in place of the real one. It checks that the circuits it is asked to run are the circuits
the job ran, so a recompilation that differs (other package versions) cannot silently pair
counts with the wrong circuits.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qiskit.circuit import QuantumCircuit

from qcompile.errors import QCompileError

__all__ = ["ReplayBackend"]


class ReplayBackend:
    """Looks like ``inner`` for compiling; :meth:`run` (and :meth:`estimate`) return
    ``jobs[i]`` counts (expectation values) in order.

    ``jobs`` is a list of ``(job_id, circuits, counts)`` as the store keeps them.
    """

    def __init__(
        self, inner, jobs: Sequence[tuple[str, Sequence[QuantumCircuit], list[dict[str, int]]]]
    ) -> None:
        self.inner = inner
        self.name = inner.name
        self.noisy = inner.noisy
        self.runs_circuits = getattr(inner, "runs_circuits", True)
        self.submits_jobs = False
        self._jobs = list(jobs)

    @property
    def compile_target(self):
        return self.inner.compile_target

    @property
    def suppression(self):
        """What the submitted jobs were asked to apply (the result records it)."""
        return getattr(self.inner, "suppression", None)

    @property
    def num_qubits(self) -> int | None:
        return self.inner.num_qubits

    @property
    def capacity(self) -> str:
        return self.inner.capacity

    def ideal_density_matrices(self, circuit, checkpoints, qubits):
        return self.inner.ideal_density_matrices(circuit, checkpoints, qubits)

    def _next(self, circuits: Sequence[QuantumCircuit]):
        if not self._jobs:
            raise QCompileError("the run asks for more jobs than were submitted for it")
        job_id, submitted, data = self._jobs.pop(0)
        circuits = list(circuits)
        if len(circuits) != len(submitted) or any(
            a != b for a, b in zip(circuits, submitted, strict=True)
        ):
            raise QCompileError(
                f"the circuits of job {job_id} differ from a recompilation of its run "
                "(were package versions changed?); its counts are kept in the store"
            )
        return data

    def estimate(
        self,
        circuits: Sequence[QuantumCircuit],
        observables,
        shots: int,
        *,
        resilience_level: int = 1,
        seed: int | None = None,
        progress: Callable[[int], None] | None = None,
        run_id: str | None = None,
    ) -> list[dict[str, list[float]]]:
        """The stored ``{"evs", "stds"}`` of the next job (an Estimator job)."""
        data = self._next(circuits)
        if progress is not None:
            progress(len(data))
        return data

    def run(
        self,
        circuits: Sequence[QuantumCircuit],
        shots: int,
        *,
        seed: int | None = None,
        progress: Callable[[int], None] | None = None,
        run_id: str | None = None,
    ) -> list[dict[str, int]]:
        counts = self._next(circuits)
        if progress is not None:
            progress(len(counts))
        return counts
