"""Deprecated names, and the release that removes them.

Every deprecated name warns through :func:`warn_deprecated`, naming its replacement, the
release it was deprecated in and the one that removes it. CHANGELOG.md ("Deprecated") lists
them all. ``tests/test_deprecations.py`` keeps each working and fails once qcompile's version
reaches :data:`REMOVED_IN`, so the removal is not forgotten.
"""

from __future__ import annotations

import warnings

__all__ = ["DEPRECATED_IN", "REMOVED_IN", "warn_deprecated"]

#: The release in which the current aliases were deprecated (2026-12-07).
DEPRECATED_IN = "0.1.0"
#: The release that removes them.
REMOVED_IN = "0.3.0"


def warn_deprecated(old: str, new: str, *, stacklevel: int = 3) -> None:
    """A ``DeprecationWarning`` that ``old`` goes in :data:`REMOVED_IN`; use ``new``."""
    warnings.warn(
        f"{old} is deprecated since qcompile {DEPRECATED_IN} and will be removed in "
        f"{REMOVED_IN}: use {new}",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
