"""Retries with exponential backoff for calls that cross the network (submit, fetch, cancel).

A transient failure (connection dropped, timeout, an HTTP error from the API) is retried
``attempts − 1`` times with delays ``backoff_s · factor^k`` (capped); the last failure becomes
one :class:`RetriesExhausted` error that says what was being done, so a caller can keep the
job id and tell the user how to pick it up again.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar

from qcompile.errors import BackendUnavailable

__all__ = ["RetryPolicy", "RetriesExhausted", "call_with_retries"]

T = TypeVar("T")


class RetriesExhausted(BackendUnavailable):
    """A call still failed after every retry."""


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently to retry: ``attempts`` calls in all."""

    attempts: int = 4
    backoff_s: float = 2.0
    factor: float = 2.0
    max_backoff_s: float = 60.0

    def delays(self) -> list[float]:
        """The waits between consecutive attempts."""
        return [
            min(self.backoff_s * self.factor**k, self.max_backoff_s)
            for k in range(self.attempts - 1)
        ]


def call_with_retries(
    call: Callable[[], T],
    *,
    what: str,
    transient: tuple[type[BaseException], ...],
    policy: RetryPolicy = RetryPolicy(),
    describe: Callable[[BaseException], str] = str,
    on_retry: Callable[[int, BaseException, float], None] | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """``call()``, retried on ``transient`` errors; other errors pass through at once.

    ``describe`` renders an error for the final message (e.g. with secrets redacted);
    ``on_retry(attempt, error, delay)`` is told before each wait.
    """
    delays = policy.delays()
    for attempt in range(1, policy.attempts + 1):
        try:
            return call()
        except transient as exc:
            if attempt == policy.attempts:
                raise RetriesExhausted(
                    f"{what} failed after {attempt} attempts: {type(exc).__name__}: {describe(exc)}"
                ) from None
            delay = delays[attempt - 1]
            if on_retry is not None:
                on_retry(attempt, exc, delay)
            sleep(delay)
    raise AssertionError("unreachable")  # pragma: no cover
