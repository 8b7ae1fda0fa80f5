"""Lowering: protocol operations to circuits of standard gates."""

from qcompile.lowering.swap_power import (
    SwapPowerGate,
    alpha_from_eta,
    eta_from_alpha,
    partial_swap,
    partial_swap_matrix,
    swap_power_matrix,
)

__all__ = [
    "SwapPowerGate",
    "alpha_from_eta",
    "eta_from_alpha",
    "partial_swap",
    "partial_swap_matrix",
    "swap_power_matrix",
]
