"""qcompile: compile open-system and autonomous-error-correction protocols to hardware.

protocol spec → :class:`OpenSystem` model → lowering → pass layer → backend → results.
"""

from qcompile.aliases import install as _install_aliases
from qcompile.errors import BackendUnavailable, InvalidParameter, QCompileError, ResourceLimit
from qcompile.lowering.swap_power import SwapPowerGate, partial_swap
from qcompile.model import OpenSystem
from qcompile.passes.compile import CompileReport, compile_circuits, compile_protocol

_install_aliases()  # old module names (and the bare `backends`) keep working

__version__ = "0.1.0"

__all__ = [
    "BackendUnavailable",
    "CompileReport",
    "InvalidParameter",
    "OpenSystem",
    "QCompileError",
    "ResourceLimit",
    "SwapPowerGate",
    "compile_circuits",
    "compile_protocol",
    "partial_swap",
]
