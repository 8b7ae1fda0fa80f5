"""qcompile's pass layer, assembled into a Qiskit ``StagedPassManager``.

Qiskit's preset stages at optimization level 2 with qcompile's stage plugins
(:mod:`qcompile.passes.plugins`) for layout, routing and optimization:

* :class:`CollisionChainLayout` places a collision chain on a low-error device path;
* :class:`CollisionChainRouting` walks its hub down the path with one SWAP per partner;
* block consolidation fuses each SWAP with its collision (SWAP·U^α = U^{α+1}: 3 gates);
* :class:`StateAwareSynthesis` re-synthesizes blocks with a known input (a fresh or reset
  qubit) as isometries: 2 two-qubit gates per collision with a fresh reservoir qubit, not 3;
* :class:`MergeCommutingPauliEvolutions` merges commuting Pauli rotations (a product-formula
  step, one ``PauliEvolutionGate`` per term) into single evolutions, and
  :class:`SynthesizePauliEvolutions` synthesizes each first, by
  :class:`CommutingPauliEvolutionSynthesis` where its terms commute (a reordered Pauli
  network: fewer CX than a ladder per term);
* :class:`AncillaReuse` (opt-in) replaces fresh ancillas by reset ones by a cost model.

Circuits without a chain go through Qiskit's own layout and routing unchanged.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence

from qiskit.transpiler import PassManager, StagedPassManager, Target
from qiskit.transpiler.preset_passmanagers import generate_preset_pass_manager
from qiskit.transpiler.preset_passmanagers.plugin import PassManagerStagePluginManager

from qcompile.passes.ancilla_reuse import AncillaReuse
from qcompile.passes.collision_chain_layout import CollisionChainLayout
from qcompile.passes.collision_chain_routing import CollisionChainRouting
from qcompile.passes.known_states import INITIAL_STATES, KnownStates, SetInitialState
from qcompile.passes.pauli_evolution import (
    CommutingPauliEvolutionSynthesis,
    SynthesizePauliEvolutions,
    hls_config,
)
from qcompile.passes.pauli_evolution_merge import MergeCommutingPauliEvolutions
from qcompile.passes.seed_independence import MarkRoutedWithoutSwaps, MarkSeedIndependent
from qcompile.passes.state_aware_synthesis import StateAwareSynthesis

__all__ = [
    "AncillaReuse",
    "CollisionChainLayout",
    "CommutingPauliEvolutionSynthesis",
    "CollisionChainRouting",
    "DEFAULT_BASIS",
    "INITIAL_STATES",
    "KnownStates",
    "MarkRoutedWithoutSwaps",
    "MarkSeedIndependent",
    "MergeCommutingPauliEvolutions",
    "StateAwareSynthesis",
    "SynthesizePauliEvolutions",
    "build_pass_manager",
    "reseeded",
]


def _pauli_passes() -> list:
    """Commuting rotations merged, then every Pauli evolution synthesized (first, before
    Qiskit's init stage computes their matrices)."""
    return [MergeCommutingPauliEvolutions(), SynthesizePauliEvolutions()]


#: Basis for targets without a coupling map (ideal simulation, all-to-all CX).
DEFAULT_BASIS = ("cx", "rz", "sx", "x", "reset", "measure")


def build_pass_manager(
    target: Target | None = None,
    *,
    seed: int | None = 0,
    optimization_level: int = 3,
    initial_layout: Sequence[int] | None = None,
    ancilla_reuse: str = "never",
    initial_state: str = "auto",
) -> StagedPassManager:
    """The qcompile pipeline for ``target`` (``None``: all-to-all CX + RZ/SX/X).

    ``initial_layout[i]`` is the physical qubit of virtual qubit i, if given.
    ``ancilla_reuse`` (``never``, ``auto``, ``always``) runs :class:`AncillaReuse` first. It is
    off by default: it trades idle decoherence for resets, and Aer's device noise models no
    idle errors, so only hardware can judge it fairly.
    ``initial_state`` says what :class:`StateAwareSynthesis` may assume of the inputs:
    ``"zero"`` (run from |0…0⟩), ``"any"`` (an operator: only resets make states known) or
    ``"auto"`` (``"zero"`` for circuits that measure, else ``"any"``).
    """
    if initial_state not in INITIAL_STATES:
        raise ValueError(f"initial_state must be one of {', '.join(INITIAL_STATES)}")
    if target is None:
        manager = generate_preset_pass_manager(
            optimization_level=optimization_level,
            basis_gates=list(DEFAULT_BASIS),
            seed_transpiler=seed,
            optimization_method="qcompile",
            hls_config=hls_config(),
        )
        manager.pre_init = PassManager([SetInitialState(initial_state), *_pauli_passes()])
        return manager
    manager = generate_preset_pass_manager(
        optimization_level=optimization_level,
        target=target,
        seed_transpiler=seed,
        initial_layout=list(initial_layout) if initial_layout is not None else None,
        layout_method="qcompile",
        routing_method="qcompile",
        optimization_method="qcompile",
        hls_config=hls_config(),
    )
    first = [SetInitialState(initial_state), *_pauli_passes()]
    if ancilla_reuse != "never":
        first.append(AncillaReuse(target, mode=ancilla_reuse))
    manager.pre_init = PassManager(first)
    manager.post_routing = PassManager([MarkRoutedWithoutSwaps()])
    manager.post_optimization = PassManager([MarkSeedIndependent()])
    return manager


#: The stages whose passes take the transpiler seed (Sabre, VF2Layout) at level 3.
SEEDED_STAGES = ("layout", "routing")


def reseeded(manager: StagedPassManager, seed: int) -> StagedPassManager:
    """``manager`` (a :func:`build_pass_manager` for a target) with transpiler seed ``seed``:
    the seeded stages rebuilt by their plugins, every other stage shared — the same circuits
    as ``build_pass_manager(target, seed=seed, ...)`` at a fraction of the construction
    (the optimization and translation stages dominate it; the candidates of
    :func:`~qcompile.passes.compile.compile_best` differ only by seed)."""
    config = copy.copy(manager.routing.qcompile_config)
    config.seed_transpiler = seed
    plugins = PassManagerStagePluginManager()
    stages = {name: getattr(manager, name) for name in manager.expanded_stages}
    for name in SEEDED_STAGES:
        stages[name] = plugins.get_passmanager_stage(name, "qcompile", config, optimization_level=3)
    return StagedPassManager(stages=manager.stages, **stages)
