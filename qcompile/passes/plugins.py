"""Qiskit transpiler stage plugins that put qcompile's passes into preset pass managers.

Registered as entry points (``pyproject.toml``), so anyone can write::

    generate_preset_pass_manager(2, backend, layout_method="qcompile",
                                 routing_method="qcompile", optimization_method="qcompile")

Each plugin runs qcompile's pass first and then Qiskit's default for that stage, which only
acts on what qcompile's pass left undone (no layout chosen, circuit not yet routed). The
optimization stage starts with :class:`StateAwareSynthesis` (``initial_state="auto"``: circuits
that measure are taken to start in |0…0⟩, as Qiskit runs them; after a reset always).
"""

from __future__ import annotations

import copy

from qiskit.passmanager.flow_controllers import ConditionalController
from qiskit.transpiler import PassManager
from qiskit.transpiler.passes import (
    ApplyLayout,
    ConsolidateBlocks,
    EnlargeWithAncilla,
    FullAncillaAllocation,
    UnitarySynthesis,
)
from qiskit.transpiler.preset_passmanagers.builtin_plugins import (
    DefaultLayoutPassManager,
    DefaultRoutingPassManager,
    OptimizationPassManager,
)
from qiskit.transpiler.preset_passmanagers.plugin import PassManagerStagePlugin

from qcompile.passes.collision_chain_layout import CollisionChainLayout
from qcompile.passes.collision_chain_routing import CollisionChainRouting
from qcompile.passes.state_aware_synthesis import StateAwareSynthesis

__all__ = [
    "QCompileLayoutPlugin",
    "QCompileRoutingPlugin",
    "QCompileOptimizationPlugin",
    "state_aware_passes",
]


def _as_default(config):
    """``config`` as Qiskit's defaults see it: with a named method, Qiskit's own stages turn
    their VF2 layout searches off (``get_vf2_limits``), which must not happen behind ours."""
    plain = copy.copy(config)
    for name in ("layout_method", "routing_method", "optimization_method"):
        if getattr(plain, name, None) == "qcompile":
            setattr(plain, name, None)
    return plain


class QCompileLayoutPlugin(PassManagerStagePlugin):
    """Layout stage: :class:`CollisionChainLayout`; where it places nothing, Qiskit's default
    layout search. A layout given by the user is always kept."""

    def pass_manager(self, pass_manager_config, optimization_level=None) -> PassManager:
        default = DefaultLayoutPassManager().pass_manager(
            _as_default(pass_manager_config), optimization_level
        )
        target = pass_manager_config.target
        if pass_manager_config.initial_layout is not None or target is None:
            return default  # a user's layout wins

        def chain_placed(property_set) -> bool:
            return bool(property_set["collision_chain_layout"])

        return PassManager(
            [
                CollisionChainLayout(target),
                ConditionalController(
                    default.to_flow_controller(), condition=lambda ps: not chain_placed(ps)
                ),
                ConditionalController(
                    [FullAncillaAllocation(target), EnlargeWithAncilla(), ApplyLayout()],
                    condition=chain_placed,
                ),
            ]
        )


class QCompileRoutingPlugin(PassManagerStagePlugin):
    """Routing stage: :class:`CollisionChainRouting`; where it routes nothing, Qiskit's
    default (Sabre) routing."""

    def pass_manager(self, pass_manager_config, optimization_level=None) -> PassManager:
        default = DefaultRoutingPassManager().pass_manager(
            _as_default(pass_manager_config), optimization_level
        )
        # a routed chain keeps the path its layout chose (no VF2 post-layout move)
        manager = PassManager(
            [
                CollisionChainRouting(pass_manager_config.target),
                ConditionalController(
                    default.to_flow_controller(),
                    condition=lambda ps: not ps["collision_chain_routed"],
                ),
            ]
        )
        manager.qcompile_config = pass_manager_config  # what reseeded() rebuilds it from
        return manager


def state_aware_passes(target=None, basis_gates=None) -> list:
    """:class:`StateAwareSynthesis`, then Qiskit's ``UnitarySynthesis`` of the blocks it
    rewrote into ``target`` (or ``basis_gates``)."""
    return [StateAwareSynthesis(), UnitarySynthesis(basis_gates=basis_gates, target=target)]


class QCompileOptimizationPlugin(PassManagerStagePlugin):
    """Optimization stage: state-aware block synthesis (:func:`state_aware_passes`), then
    Qiskit's own at level 2 or 3 (which consolidates two-qubit blocks, so a fused routing SWAP
    costs nothing), with block consolidation first at lower levels. A routed collision chain
    keeps its path: the post-optimization VF2 re-layout is only run on circuits the chain
    passes did not place."""

    def pass_manager(self, pass_manager_config, optimization_level=None) -> PassManager:
        level = max(2, optimization_level or 0)
        searching = OptimizationPassManager().pass_manager(_as_default(pass_manager_config), level)
        keeping = OptimizationPassManager().pass_manager(pass_manager_config, level)  # no VF2
        target = pass_manager_config.target
        first = state_aware_passes(target, pass_manager_config.basis_gates)
        if target is None:
            return PassManager([*first, searching.to_flow_controller()])

        def chain(property_set) -> bool:
            return bool(property_set["collision_chain_routed"])

        stages = [
            ConditionalController(
                searching.to_flow_controller(), condition=lambda ps: not chain(ps)
            ),
            ConditionalController(keeping.to_flow_controller(), condition=chain),
        ]
        if (optimization_level or 0) < 2:
            stages.insert(0, ConsolidateBlocks(target=target))
            stages.insert(1, UnitarySynthesis(target=target))
        return PassManager([*first, *stages])
