"""The reference solvers the runners use by default, by name.

Every runner picks its own solvers from ``qcompile.backends``; this mapping names them for a
caller that wants to replace one (``solvers=`` of ``qcompile.run.recipe.execute`` and of a
protocol plugin's ``run``), e.g. a test that substitutes a stub. Nothing requires it.
"""

from __future__ import annotations

from collections.abc import Callable

from qcompile.backends.classical_master_equation import exact_success_probability
from qcompile.backends.ising_kmc import simulate_memory
from qcompile.backends.operator_lindblad import evolve_expectations, evolve_states
from qcompile.backends.propagators import check_propagator_options, reference_propagators
from qcompile.backends.reference import (
    lindblad_reference,
    lindblad_state_at,
    liouvillian_sector_slowest,
    liouvillian_slowest,
)

__all__ = ["default_solvers"]


def default_solvers() -> dict[str, Callable]:
    """``lindblad_reference``, ``propagators`` (with ``check_propagators``, its options checked
    before any work), ``kmc``, ``exact_memory``, ``state_at``,
    ``evolve`` / ``evolve_states`` (operator-form Lindblad, large oscillators), ``slowest``
    (Liouvillian gap), ``sector_slowest`` (the same in one sector of a weak symmetry)."""
    return {
        "lindblad_reference": lindblad_reference,
        "propagators": reference_propagators,
        "check_propagators": check_propagator_options,
        "kmc": simulate_memory,
        "exact_memory": exact_success_probability,
        "state_at": lindblad_state_at,
        "evolve": evolve_expectations,
        "evolve_states": evolve_states,
        "slowest": liouvillian_slowest,
        "sector_slowest": liouvillian_sector_slowest,
    }
