"""qcompile's pass layer, assembled into a Qiskit ``StagedPassManager``.

Qiskit's preset stages at optimization level 2 with qcompile's stage plugins
(:mod:`qcompile.passes.plugins`) for layout, routing and optimization:

* :class:`CollisionChainLayout` places a collision chain on a low-error device path;
* :class:`CollisionChainRouting` walks its hub down the path with one SWAP per partner;
* block consolidation fuses each SWAP with its collision (SWAP·U^α = U^{α+1}: 3 gates);
* :class:`AncillaReuse` (opt-in) replaces fresh ancillas by reset ones by a cost model.

Circuits without a chain go through Qiskit's own layout and routing unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence

from qiskit.transpiler import PassManager, StagedPassManager, Target
from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager

from qcompile.passes.ancilla_reuse import AncillaReuse
from qcompile.passes.collision_chain_layout import CollisionChainLayout
from qcompile.passes.collision_chain_routing import CollisionChainRouting

__all__ = [
    "AncillaReuse",
    "CollisionChainLayout",
    "CollisionChainRouting",
    "DEFAULT_BASIS",
    "build_pass_manager",
]

#: Basis for targets without a coupling map (ideal simulation, all-to-all CX).
DEFAULT_BASIS = ("cx", "rz", "sx", "x", "reset", "measure")


def build_pass_manager(
    target: Target | None = None,
    *,
    seed: int | None = 0,
    optimization_level: int = 3,
    initial_layout: Sequence[int] | None = None,
    ancilla_reuse: str = "never",
) -> StagedPassManager:
    """The qcompile pipeline for ``target`` (``None``: all-to-all CX + RZ/SX/X).

    ``initial_layout[i]`` is the physical qubit of virtual qubit i, if given.
    ``ancilla_reuse`` (``never``, ``auto``, ``always``) runs :class:`AncillaReuse` first. It is
    off by default: it trades idle decoherence for resets, and Aer's device noise models no
    idle errors, so only hardware can judge it fairly.
    """
    if target is None:
        return generate_preset_pass_manager(
            optimization_level=optimization_level,
            basis_gates=list(DEFAULT_BASIS),
            seed_transpiler=seed,
        )
    manager = generate_preset_pass_manager(
        optimization_level=optimization_level,
        target=target,
        seed_transpiler=seed,
        initial_layout=list(initial_layout) if initial_layout is not None else None,
        layout_method="qcompile",
        routing_method="qcompile",
        optimization_method="qcompile",
    )
    if ancilla_reuse != "never":
        manager.pre_init = PassManager([AncillaReuse(target, mode=ancilla_reuse)])
    return manager
