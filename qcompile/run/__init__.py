"""Runners: a protocol on a backend, end to end — check, store, reference, lower, compile,
execute, estimate — and the recipes that replay a run (sweep points, IBM jobs fetched later).

``experiment`` (homogenization, and the shared check/store/recipe helpers), ``open_system``
(any OpenSystem: ``lindblad``), ``dynamics`` (coherent feedback), ``encodings`` (dissipative
qubits), ``ising_memory``, ``photonic_toy``, ``bosonic`` and ``oscillator_circuits`` (GKP,
cat), ``recipe``.
"""
