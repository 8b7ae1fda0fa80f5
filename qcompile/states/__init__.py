"""Quantum states and bases shared by the layers: qubit states (labels, Bloch vectors,
fidelities), reduced states of circuits, state tomography from counts, oscillator (Hermite)
bases."""
