"""Protocols: one module per seed paper, each validating physical parameters into a model.

``PROTOCOLS`` maps the CLI name of every protocol to its module; a module exposes ``NAME``,
``SUMMARY``, ``PARAMETERS`` and a ``from_mapping`` builder.
"""

from __future__ import annotations

from types import ModuleType

from qcompile.errors import InvalidParameter
from qcompile.protocols import cat as cat_module
from qcompile.protocols import coherent_feedback as coherent_feedback_module
from qcompile.protocols import dissipative_qubits as dissipative_qubits_module
from qcompile.protocols import gkp as gkp_module
from qcompile.protocols import homogenization as homogenization_module
from qcompile.protocols import ising_memory as ising_memory_module
from qcompile.protocols import photonic_ising as photonic_ising_module
from qcompile.protocols.cat import Cat, cat
from qcompile.protocols.coherent_feedback import CoherentFeedback, coherent_feedback
from qcompile.protocols.dissipative_qubits import DissipativeQubits, dissipative_qubits
from qcompile.protocols.gkp import GKP, gkp
from qcompile.protocols.homogenization import Homogenization, homogenization
from qcompile.protocols.ising_memory import IsingMemory, ising_memory
from qcompile.protocols.photonic_ising import PhotonicIsingToy, photonic_ising_toy

__all__ = [
    "PROTOCOLS",
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

PROTOCOLS: dict[str, ModuleType] = {
    homogenization_module.NAME: homogenization_module,
    coherent_feedback_module.NAME: coherent_feedback_module,
    dissipative_qubits_module.NAME: dissipative_qubits_module,
    ising_memory_module.NAME: ising_memory_module,
    photonic_ising_module.NAME: photonic_ising_module,
    gkp_module.NAME: gkp_module,
    cat_module.NAME: cat_module,
}


def get_protocol(name: str) -> ModuleType:
    """The protocol module registered under ``name``."""
    try:
        return PROTOCOLS[name]
    except KeyError:
        raise InvalidParameter("protocol", name, "one of " + ", ".join(sorted(PROTOCOLS))) from None
