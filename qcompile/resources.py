"""What this machine offers (physical memory) and what one run may ask of it (time steps), for
refusing requests that cannot fit before any work starts."""

from __future__ import annotations

import math
import os
from typing import Any

from qcompile.errors import InvalidParameter

__all__ = [
    "MAX_INTEGER",
    "MAX_MAGNITUDE",
    "MAX_TIME_STEPS",
    "available_memory",
    "check_number",
    "check_time_steps",
]

#: Most time steps t_max/dt one run may take (a Trotter step each, and as many reference
#: states): beyond it a run takes hours and its states do not fit in memory.
MAX_TIME_STEPS = 100_000


def available_memory() -> int:
    """Physical memory in bytes (a generous ceiling for what one computation may take)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def check_time_steps(t_max: float, dt: float, horizon: str = "t_max") -> int:
    """t_max/dt, refused (naming ``dt``, with the estimate) above :data:`MAX_TIME_STEPS`;
    ``horizon`` is the final time's parameter name (``time`` in some protocols)."""
    steps = t_max / dt
    if not steps <= MAX_TIME_STEPS:
        flag = "--" + horizon.replace("_", "-")
        raise InvalidParameter(
            "dt", dt, f"dt >= {horizon}/{MAX_TIME_STEPS} = {t_max / MAX_TIME_STEPS:g} "
            f"({horizon}/dt = {steps:.3g} time steps asked; raise --dt or lower {flag})"
        )  # fmt: skip
    return round(steps)


#: Largest (fastest rate × evolution time) a master-equation reference integrates: the
#: adaptive solvers take steps of ~1/rate, so this is the work (about 10 minutes here).
MAX_RATE_TIMES = 5_000.0


def check_evolution_time(
    name: str, time: float, rate: float, reduce: str, limit: float = MAX_RATE_TIMES
) -> None:
    """Refuse an evolution of ``time`` (parameter ``name``) at a fastest ``rate`` whose
    product exceeds ``limit`` (default :data:`MAX_RATE_TIMES`; a solver whose steps are
    cheaper takes a larger one), with the estimate and what to lower."""
    if not time * rate <= limit:
        raise InvalidParameter(
            name, time, f"time × fastest rate <= {limit:g} ({time:g} × {rate:g} = "
            f"{time * rate:.3g} asked: hours of integration; lower {reduce})"
        )  # fmt: skip


#: Largest |float| a command accepts (rates, times, amplitudes, angles in natural units).
MAX_MAGNITUDE = 1e6
#: Largest |int| (numpy and C take 64 bits).
MAX_INTEGER = 2**63 - 1


def check_number(name: str, value: Any) -> None:
    """Refuse a non-finite or oversized float, or an integer beyond 64 bits, by its name."""
    if isinstance(value, bool):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidParameter(name, value, "a finite number")
        if abs(value) > MAX_MAGNITUDE:
            raise InvalidParameter(
                name, value, f"|value| <= {MAX_MAGNITUDE:g} (beyond it the solvers overflow "
                "or never finish)"
            )  # fmt: skip
    elif isinstance(value, int) and abs(value) > MAX_INTEGER:
        raise InvalidParameter(name, value, "an integer of at most 64 bits")
    elif isinstance(value, (list, tuple)):
        for item in value:
            check_number(name, item)
