"""Runners: a protocol on a backend, end to end — check, store, reference, lower, compile,
execute, estimate — and the recipes that replay a run (sweep points, IBM jobs fetched later).

``runner`` (the lifecycle every run shares: check, store, seed, recipe), ``pipeline`` (the
one runner of a protocol declared by its data flow: third-party protocols, the Ising memory,
the photonic-Ising toy, GKP and the cat qubit on the reference backend), with
``mitigated_execution`` (readout mitigation, ZNE, the Estimator, for any of them) and
``state_pipeline`` (its states path: observables from states along lowered evolutions —
``lindblad``, coherent feedback, the dissipative-qubit encodings) and ``bloch_pipeline`` (its
Bloch path: observables from single-qubit states — homogenization) and ``step_pipeline``
(its step path: one compiled collision step's channel — GKP and the cat qubit on Aer);
``prefix_tomography`` (device tomography of lowered evolutions), ``zne``, ``recipe``;
``experiment``, ``oscillator_circuits``, ``photonic_toy``, ``ising_memory``, ``bosonic``,
``open_system`` and ``encodings`` are deprecated aliases.
"""
