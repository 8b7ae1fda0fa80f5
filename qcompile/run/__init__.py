"""Runners: a protocol on a backend, end to end — check, store, reference, lower, compile,
execute, estimate — and the recipes that replay a run (sweep points, IBM jobs fetched later).

``runner`` (the lifecycle every run shares: check, store, seed, recipe), ``pipeline`` (the
one runner of a protocol declared by its data flow: third-party protocols and the
photonic-Ising toy), ``experiment`` (homogenization), ``open_system`` (any OpenSystem evolving
in time: ``lindblad`` and coherent feedback), ``encodings`` (dissipative qubits),
``ising_memory``, ``bosonic`` and ``oscillator_circuits`` (GKP, cat), ``prefix_tomography``
(device tomography of a lowered evolution), ``recipe``; ``photonic_toy`` is a deprecated
alias.
"""
