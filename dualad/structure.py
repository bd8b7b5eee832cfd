"""What the traces of one function share: a graph's structure, without its values.

The transforms trace a Python function again at every call, because a closure, a global or a
branch may have changed what it computes. Most calls build the same graph as the call before,
with new values. This module owns the check that proves it: :class:`Structure` keeps the
previous graph's shape (each position's op, parameters and arguments; which positions are
leaves, inputs, outputs and guards), and :meth:`Structure.placed` walks the new trace from its
outputs down, position by position. The new nodes are accepted only when every op, parameter,
argument order and branch decision is the same and no node stands at two positions. The graph
is then the same graph, node for node, so it needs no sort, and its programs are the ones the
previous trace recorded. Any difference and the trace is sorted as a new graph.

No value is kept: a structure holds ops, parameters and positions only, so a function traced
on big arrays does not keep the last call's arrays alive.

This module also owns :func:`frozen_params`, an op's parameters as something hashable, by
which programs are shared between graphs of one structure.

Examples
--------
>>> import dualad as ad
>>> from dualad.structure import Structure
>>> f = lambda x, y: x * y + ad.sin(x)
>>> first = ad.trace(f, 1.0, 2.0)
>>> shape = Structure.of(first)
>>> again = ad.trace(f, 3.0, 4.0)
>>> shape.placed(again.outputs, again.inputs, ()) == again.nodes
True
>>> other = ad.trace(lambda x, y: x * x + ad.sin(y), 1.0, 2.0)
>>> shape.placed(other.outputs, other.inputs, ()) is None
True
"""

import numpy as np

from .primitives import REGISTRY

#: Graphs of at most this many nodes are remembered for the next trace of their function.
STRUCTURE_LIMIT = 10_000
#: How many functions keep the structure of their last trace (beyond it, all are forgotten).
REMEMBERED = 256

#: What :func:`frozen_params` returns for parameters it cannot compare.
UNHASHABLE = object()
#: parameter types compared by value as they are (True and 1 differ by their type)
_PLAIN_PARAMETERS = frozenset({int, bool, float, str, type(None)})


def frozen_params(value):
    """``value`` (an op's parameters) as something hashable and comparable by value, or
    :data:`UNHASHABLE` when it cannot be compared.

    Examples
    --------
    >>> from dualad.structure import frozen_params
    >>> frozen_params({"axis": (0,), "keepdims": False})
    (('axis', (<class 'tuple'>, ((<class 'int'>, 0),))), ('keepdims', (<class 'bool'>, False)))
    >>> frozen_params({}) == frozen_params({}), frozen_params(1) == frozen_params(True)
    (True, False)
    """
    kind = type(value)
    if kind in _PLAIN_PARAMETERS:
        return (kind, value)
    if kind is dict and not value:
        return ()
    if isinstance(value, dict):
        items = tuple((k, frozen_params(v)) for k, v in sorted(value.items()))
        return UNHASHABLE if any(v is UNHASHABLE for _, v in items) else items
    if isinstance(value, (tuple, list)):
        items = tuple(frozen_params(v) for v in value)
        return UNHASHABLE if any(v is UNHASHABLE for v in items) else (type(value), items)
    if isinstance(value, slice):
        return ("slice", value.start, value.stop, value.step)
    if isinstance(value, np.ndarray):
        return ("array", value.dtype.str, value.shape, value.tobytes())
    try:
        hash(value)
    except TypeError:
        return UNHASHABLE
    return (type(value), value)



def comparable_ops(graph):
    """Each op of ``graph``, in order, as ``(position, primitive, parameters, frozen
    parameters, argument positions)``; or ``None`` when one cannot be compared with another
    graph's (an op that is not registered, parameters :func:`frozen_params` cannot compare).

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.structure import comparable_ops
    >>> [(pos, prim.name, args) for pos, prim, _, _, args in
    ...  comparable_ops(ad.trace(lambda x: ad.sin(x) * x, 1.0))]
    [(1, 'sin', (0,)), (2, 'multiply', (1, 0))]
    """
    nodes = graph.nodes
    ops = []
    for pos, args in zip(graph.op_positions, graph.op_args):
        node = nodes[pos]
        if REGISTRY.get(node.op.name) is not node.op:
            return None
        frozen = frozen_params(node.params)
        if frozen is UNHASHABLE:
            return None
        ops.append((pos, node.op, node.params, frozen, args))
    return ops


class Structure:
    """A graph's structure without its values, to check a new trace against.

    Made by :meth:`of` (``None`` for a graph that cannot be compared: an op that is not
    registered, parameters that cannot be compared, an input that is not a leaf, or more
    than :data:`STRUCTURE_LIMIT` nodes). Graphs rebuilt from one structure share its
    ``cache``, where the fast paths keep their programs.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.structure import Structure
    >>> shape = Structure.of(ad.trace(lambda x: ad.sin(x) * x, 1.0))
    >>> shape.size, shape.op_positions, shape.op_args
    (3, [1, 2], [(0,), (1, 0)])
    """

    __slots__ = ("size", "down", "op_positions", "op_args", "leaf_positions",
                 "input_positions", "output_positions", "guards", "cache")

    @classmethod
    def of(cls, graph):
        """The structure of ``graph``, or ``None`` where it cannot be compared (see above)."""
        nodes = graph.nodes
        if len(nodes) > STRUCTURE_LIMIT or any(node.op is not None for node in graph.inputs):
            return None
        ops = comparable_ops(graph)
        if ops is None:
            return None
        # the walk's order, each op with its count of arguments
        down = [(*op, len(op[4])) for op in reversed(ops)]
        structure = cls.__new__(cls)
        structure.size = len(nodes)
        structure.down = down
        structure.op_positions, structure.op_args = graph.op_positions, graph.op_args
        structure.leaf_positions = graph.leaf_positions
        structure.input_positions = graph.input_positions
        structure.output_positions = graph.output_positions
        structure.guards = graph.guards
        structure.cache = {}
        return structure

    def placed(self, outputs, inputs, guards):
        """The nodes of the graph of ``outputs`` (with ``inputs`` and ``guards``, a sequence
        of :class:`~dualad.graph.Guard`) in this structure's order, or ``None`` when that
        graph's structure is not this one.

        The walk starts from the outputs and the guarded nodes and goes down, from the last
        op to the first: each position's node must have this structure's op and parameters,
        and its children, in order, are placed at the op's argument positions. A position
        reached twice must be reached by the same node, and no node may stand at two
        positions. Then the new graph and this structure have the same nodes, each with the
        same op, parameters and arguments, so a sort of the new graph gives this order.
        """
        if (len(inputs) != len(self.input_positions) or len(outputs) !=
                len(self.output_positions) or len(guards) != len(self.guards)):
            return None
        nodes = [None] * self.size
        for pos, node in zip(self.input_positions, inputs):
            if node.op is not None:
                return None
            nodes[pos] = node
        roots = list(zip(self.output_positions, outputs))
        for (pos, outcome), guard in zip(self.guards, guards):
            if guard.outcome != outcome:
                return None
            roots.append((pos, guard.node))
        for pos, node in roots:
            here = nodes[pos]
            if here is None:
                nodes[pos] = node
            elif here is not node:
                return None
        for pos, prim, params, frozen, args, count in self.down:
            node = nodes[pos]
            if node is None or node.op is not prim:
                return None
            if node.params is not params and not _same_params(node.params, params, frozen):
                return None
            children = node.children
            if len(children) != count:
                return None
            if count == 2:      # most ops have two operands or one: the loop, unrolled
                a, b = args
                child, other = children
                here = nodes[a]
                if here is None:
                    nodes[a] = child
                elif here is not child:
                    return None
                here = nodes[b]
                if here is None:
                    nodes[b] = other
                elif here is not other:
                    return None
                continue
            if count == 1:
                a, = args
                here = nodes[a]
                if here is None:
                    nodes[a] = children[0]
                elif here is not children[0]:
                    return None
                continue
            for child, a in zip(children, args):
                here = nodes[a]
                if here is None:
                    nodes[a] = child
                elif here is not child:
                    return None
        for pos in self.leaf_positions:
            node = nodes[pos]
            if node is None or node.op is not None:
                return None
        if len(set(map(id, nodes))) != self.size:
            return None         # a node at two positions: the new graph shares more
        return nodes


def _same_params(new, old, frozen):
    """Whether the parameters ``new`` are the parameters ``old`` (whose frozen form is
    ``frozen``): by value and by type, as :func:`frozen_params` compares them. Parameters of
    plain values and tuples of them (``axis``, ``keepdims``) are compared directly."""
    if type(new) is dict and type(old) is dict and len(new) == len(old):
        for key, value in new.items():
            if key not in old:
                break
            other = old[key]
            kind = type(value)
            if kind in _PLAIN_PARAMETERS:       # the usual case (keepdims, an int axis, None)
                if kind is not type(other) or value != other:
                    break
            elif not _same_plain(value, other):
                break
        else:
            return True
    return frozen_params(new) == frozen


def _same_plain(a, b):
    """``a == b`` with the same types, for plain values and tuples of them; False for
    anything else (which :func:`frozen_params` then compares)."""
    kind = type(a)
    if kind is not type(b):
        return False
    if kind in _PLAIN_PARAMETERS:
        return a == b
    if kind is tuple:
        return len(a) == len(b) and all(map(_same_plain, a, b))
    return False


#: (code object, argument count) -> the structure of that function's last trace
_REMEMBERED = {}


def remembered(key):
    """The structure last remembered under ``key`` (``None`` if none)."""
    return _REMEMBERED.get(key)


def remember(key, graph):
    """Remember ``graph``'s structure under ``key`` (or forget the key, when the graph cannot
    be compared); returns the structure or ``None``."""
    structure = Structure.of(graph)
    if structure is None:
        _REMEMBERED.pop(key, None)
        return None
    if len(_REMEMBERED) >= REMEMBERED and key not in _REMEMBERED:
        _REMEMBERED.clear()     # many functions traced: start again (safe with threads)
    _REMEMBERED[key] = structure
    return structure
