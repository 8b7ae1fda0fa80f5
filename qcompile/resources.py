"""What this machine offers: physical memory, for refusing requests that cannot fit."""

from __future__ import annotations

import os

__all__ = ["available_memory"]


def available_memory() -> int:
    """Physical memory in bytes (a generous ceiling for what one computation may take)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30
