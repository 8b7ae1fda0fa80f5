"""``CollisionChainLayout``: place a collision chain on a low-error path of the device.

Analysis pass. If the circuit is a collision chain (:mod:`qcompile.passes.collision_chain`),
it finds a simple path of ``1 + len(partners)`` physical qubits in the coupling graph
(networkx) with little summed two-qubit and readout error: a beam search over growing paths,
and where that dead-ends, a depth-first search preferring the neighbour with the fewest
onward options (Warnsdorff's rule). It sets ``property_set["layout"]`` (hub at the path's
start, partner k at position k; other qubits on the nearest free qubits), which the
qcompile layout stage then applies instead of Qiskit's search.
Preserves the circuit (it only chooses a layout); does nothing when there is no chain or no
path.
"""

from __future__ import annotations

import networkx as nx
from qiskit.transpiler import Layout, Target
from qiskit.transpiler.basepasses import AnalysisPass

from qcompile.passes.collision_chain import find_collision_chain

__all__ = ["CollisionChainLayout", "find_path"]


def _edge_error(target: Target, a: int, b: int) -> float:
    best = None
    for name in target.operation_names:
        props = target[name]
        if props is None or target.operation_from_name(name).num_qubits != 2:
            continue
        for qargs in ((a, b), (b, a)):
            prop = props.get(qargs)
            if prop is not None and prop.error is not None:
                best = prop.error if best is None else min(best, prop.error)
    return 1e-2 if best is None else best


def _readout_error(target: Target, q: int) -> float:
    props = target["measure"].get((q,)) if "measure" in target.operation_names else None
    return 1e-2 if props is None or props.error is None else props.error


#: Two-qubit gates per path edge: each collision block, fused with its SWAP, costs 3.
GATES_PER_EDGE = 3


_GRAPHS: dict[int, tuple[Target, nx.Graph]] = {}


def coupling_graph(target: Target) -> nx.Graph:
    """The undirected coupling graph; edge ``error`` is that of the 3-gate block it hosts.
    Cached per target object (treat the graph as read-only)."""
    cached = _GRAPHS.get(id(target))
    if cached is not None and cached[0] is target:
        return cached[1]
    if len(_GRAPHS) > 32:
        _GRAPHS.clear()
    graph = _coupling_graph(target)
    _GRAPHS[id(target)] = (target, graph)
    return graph


def _coupling_graph(target: Target) -> nx.Graph:
    graph = nx.Graph()
    graph.add_nodes_from(range(target.num_qubits))
    for a, b in target.build_coupling_map().get_edges():
        graph.add_edge(a, b, error=GATES_PER_EDGE * _edge_error(target, a, b))
    return graph


def _path_from(graph: nx.Graph, start: int, length: int, budget: int) -> list[int] | None:
    """Depth-first search for a simple path of ``length`` nodes from ``start`` (Warnsdorff
    order: the neighbour with the fewest free neighbours first), at most ``budget`` steps."""
    path, on_path = [start], {start}
    steps = 0

    def free_degree(n: int) -> int:
        return sum(1 for m in graph.neighbors(n) if m not in on_path)

    def extend() -> bool:
        nonlocal steps
        if len(path) == length:
            return True
        steps += 1
        if steps > budget:
            return False
        here = path[-1]
        options = [n for n in graph.neighbors(here) if n not in on_path]
        options.sort(key=lambda n: (free_degree(n), graph.edges[here, n].get("error", 0), n))
        for n in options:
            path.append(n)
            on_path.add(n)
            if extend():
                return True
            path.pop()
            on_path.discard(n)
        return False

    return path if extend() else None


def _beam_paths(graph: nx.Graph, length: int, node_cost, width: int) -> list[list[int]]:
    """Beam search: grow paths one node at a time, keeping the ``width`` cheapest."""
    beam = sorted(([n] for n in graph.nodes), key=lambda p: node_cost(p[0]))[:width]
    costs = {tuple(p): node_cost(p[0]) for p in beam}
    for _ in range(length - 1):
        grown = {}
        for path in beam:
            base = costs[tuple(path)]
            for n in graph.neighbors(path[-1]):
                if n not in path:
                    new = (*path, n)
                    grown[new] = base + graph.edges[path[-1], n].get("error", 0) + node_cost(n)
        if not grown:
            return []
        kept = sorted(grown, key=grown.get)[:width]
        beam, costs = [list(p) for p in kept], {p: grown[p] for p in kept}
    return beam


def find_path(
    graph: nx.Graph, length: int, *, node_cost=None, width: int = 256, budget: int = 20000
) -> list[int] | None:
    """A simple path of ``length`` nodes, cheap in summed edge ``error`` plus ``node_cost``.

    A beam search finds low-cost paths; if it runs into dead ends (long paths on sparse
    graphs), a depth-first search in Warnsdorff order from every start finds one.
    """
    if length > graph.number_of_nodes():
        return None
    node_cost = node_cost or (lambda n: 0.0)

    def cost(path: list[int]) -> float:
        edges = sum(graph.edges[a, b].get("error", 0) for a, b in zip(path, path[1:], strict=False))
        return edges + sum(node_cost(n) for n in path)

    beam = _beam_paths(graph, length, node_cost, width)
    if beam:
        return min(beam, key=cost)
    order = sorted(graph.nodes, key=lambda n: (graph.degree[n], n))
    found = (_path_from(graph, start, length, budget) for start in order)
    paths = [p for p in found if p is not None]
    return min(paths, key=cost) if paths else None


class CollisionChainLayout(AnalysisPass):
    """Lay a collision chain out along a low-error path (see module docstring)."""

    def __init__(self, target: Target) -> None:
        super().__init__()
        self.target = target

    def run(self, dag):
        if self.property_set["layout"] is not None or self.target is None:
            return
        chain = find_collision_chain(dag)
        if chain is None or dag.num_qubits() > self.target.num_qubits:
            return
        graph = coupling_graph(self.target)
        if not nx.is_connected(graph.subgraph(max(nx.connected_components(graph), key=len))):
            return

        readout = {q: _readout_error(self.target, q) for q in graph.nodes}
        path = find_path(graph, 1 + len(chain.partners), node_cost=readout.__getitem__)
        if path is None:
            return
        placed = {chain.hub: path[0]} | {p: path[k + 1] for k, p in enumerate(chain.partners)}
        used = set(placed.values())
        others = [i for i in range(dag.num_qubits()) if i not in placed]
        # remaining virtual qubits: the free physical qubits closest to the path
        distance = nx.multi_source_dijkstra_path_length(graph, set(path), weight=None)
        free = sorted(
            (q for q in graph.nodes if q not in used), key=lambda q: (distance.get(q, 1e9), q)
        )
        for virtual, physical in zip(others, free, strict=False):
            placed[virtual] = physical
        self.property_set["layout"] = Layout({dag.qubits[v]: p for v, p in placed.items()})
        self.property_set["collision_chain_layout"] = True
