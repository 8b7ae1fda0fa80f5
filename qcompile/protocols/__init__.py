"""Protocols: one module per seed paper (and ``lindblad``, a user's own open system).

Each module is a protocol plugin (:mod:`qcompile.protocols.plugin`): ``NAME``, ``SUMMARY``,
``PARAMETERS``, ``from_mapping`` and ``run``, registered through the ``qcompile.protocols``
entry points like any third-party protocol. ``PROTOCOLS`` is a live view of that registry.
"""

from __future__ import annotations

from qcompile.protocols.cat import Cat, cat
from qcompile.protocols.coherent_feedback import CoherentFeedback, coherent_feedback
from qcompile.protocols.dissipative_qubits import DissipativeQubits, dissipative_qubits
from qcompile.protocols.gkp import GKP, gkp
from qcompile.protocols.homogenization import Homogenization, homogenization
from qcompile.protocols.ising_memory import IsingMemory, ising_memory
from qcompile.protocols.photonic_ising import PhotonicIsingToy, photonic_ising_toy
from qcompile.protocols.plugin import PROTOCOLS, ProtocolPlugin, get_protocol

__all__ = [
    "PROTOCOLS",
    "ProtocolPlugin",
    "GKP",
    "Cat",
    "PhotonicIsingToy",
    "cat",
    "gkp",
    "photonic_ising_toy",
    "CoherentFeedback",
    "DissipativeQubits",
    "dissipative_qubits",
    "Homogenization",
    "IsingMemory",
    "ising_memory",
    "coherent_feedback",
    "get_protocol",
    "homogenization",
]
