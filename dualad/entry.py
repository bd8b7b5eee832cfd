"""The one way in: what every entry point accepts as ``f``, and its arguments.

This module owns turning "a Python function and its point, a ``Graph``, or an output ``Var``"
into a graph, the point (one checked value per input) and a name, and the check of
``argnums``. Every entry point calls :func:`prepare` (transforms, ``compile``, ``verify``,
``compare``, the traces, the pictures, the command line), so each accepts the same things and
refuses the same things with the same words.

Examples
--------
>>> import dualad as ad
>>> from dualad.entry import prepare
>>> x = ad.Var(2.0, name="x")
>>> entry = prepare(x * x, (), "compare")
>>> entry.graph.input_names, entry.point, entry.name
(['x'], [2.0], 'f')
"""

from typing import NamedTuple

import numpy as np

from .errors import DualadError
from .graph import Graph, Var, traced
from .values import as_value, describe, is_plain


class Entry(NamedTuple):
    """A prepared ``f``: its graph, the point (``None`` where unknown) and its name."""

    graph: Graph
    point: list
    name: str


def function_name(f):
    """``f``'s ``__name__`` when it is an identifier (not ``<lambda>``), else ``"f"``.

    Examples
    --------
    >>> from dualad.entry import function_name
    >>> def energy(x): return x
    >>> function_name(energy), function_name(lambda x: x)
    ('energy', 'f')
    """
    name = getattr(f, "__name__", "f")
    return name if isinstance(name, str) and name.isidentifier() else "f"


def prepare(f, args, what, point_required=True, release_values=None, defer=False):
    """The graph of ``f`` and the point ``args``, checked.

    Parameters
    ----------
    f : callable, Graph or Var
        A Python function (traced at ``args``), a ``Graph``, or an output ``Var`` (its graph;
        its leaves' current values are the point when ``args`` is empty).
    args : sequence
        One value per input. May be empty for a Graph whose leaves have values, or a Var.
    what : str
        The entry point's name, for error messages.
    point_required : bool
        If False, a Graph without values gives ``point=None`` instead of an error.
    release_values : {None, "forward", "reverse"}
        The mode whose fast evaluator the caller runs on the graph: a function's trace may
        then let go of the values that mode's recorded programs do not read (see
        :func:`dualad.graph.traced`).
    defer : bool
        A function traced before builds its nodes without their values (see
        :func:`dualad.graph.traced`): the caller computes them.

    Raises
    ------
    DualadError
        For anything but a function, a Graph or a Var (text: use ``ad.parse``), a wrong number
        of values, and values that are not numbers.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.entry import prepare
    >>> prepare(ad.parse("x * y"), (2, 3), "compare").point
    [2.0, 3.0]
    >>> prepare("x * y", (2, 3), "compare")
    Traceback (most recent call last):
      ...
    dualad.errors.DualadError: compare: expected a function, a Graph or a Var, got a str ('x * y'); for expression text use ad.parse(text)
    """
    if isinstance(f, Var):
        graph, name = Graph(f), f.name if isinstance(f.name, str) and f.name.isidentifier() \
            else "f"
    elif isinstance(f, Graph):
        graph, name = f, "f"
    elif callable(f):
        values = [a if is_plain(a) else as_value(a, f"{what}: argument {k}")
                  for k, a in enumerate(args)]
        graph = traced(f, values, release_values, defer, checked=True)
        return Entry(graph, values, function_name(f))
    else:
        hint = "; for expression text use ad.parse(text)" if isinstance(f, str) else ""
        raise DualadError(f"{what}: expected a function, a Graph or a Var, got "
                          f"{describe(f)}{hint}")
    names = graph.input_names
    if not args:
        leaves = [leaf.value for leaf in graph.inputs]
        if any(v is None for v in leaves):
            if not point_required:
                return Entry(graph, None, name)
            raise DualadError(f"{what}: give a value for each input ({', '.join(names)})")
        args = leaves
    if len(args) != len(graph.inputs):
        raise DualadError(f"{what}: the graph has {len(graph.inputs)} input"
                          f"{'s' if len(graph.inputs) != 1 else ''} ({', '.join(names)}) but "
                          f"{len(args)} value{'s were' if len(args) != 1 else ' was'} given")
    point = [as_value(a, f"{what}: the value of {n}") for a, n in zip(args, names)]
    return Entry(graph, point, name)


def check_argnums(argnums, count, what):
    """``argnums`` as a tuple of argument positions, and whether it was a single int.

    The same rules everywhere: an int or a non-empty tuple/list of ints (not bools), each
    within ``-count <= a < count``, none named twice.

    Examples
    --------
    >>> from dualad.entry import check_argnums
    >>> check_argnums(-1, 3, "grad"), check_argnums((0, 2), 3, "grad")
    (((2,), True), ((0, 2), False))
    >>> check_argnums(True, 3, "grad")
    Traceback (most recent call last):
      ...
    dualad.errors.DualadError: grad: argnums must be an int or a tuple of ints, got True
    """
    plain = type(argnums) is int or (type(argnums) is tuple
                                     and all(type(n) is int for n in argnums))
    known = _CHECKED.get((argnums, count)) if plain else None
    if known is not None:       # a transform is called again and again with the same argnums
        return known
    single = isinstance(argnums, (int, np.integer)) and not isinstance(argnums, (bool, np.bool_))
    if single:
        nums = (argnums,)
    elif isinstance(argnums, (tuple, list)):
        nums = tuple(argnums)
    else:
        nums = None
    if nums is None or not all(isinstance(n, (int, np.integer))
                               and not isinstance(n, (bool, np.bool_)) for n in nums):
        raise DualadError(f"{what}: argnums must be an int or a tuple of ints, got {argnums!r}")
    if not nums:
        raise DualadError(f"{what}: argnums is empty; name at least one argument")
    plural = "s" if count != 1 else ""
    for n in nums:
        if not -count <= n < count:
            raise DualadError(f"{what}: argnums {argnums!r} does not fit a function of "
                              f"{count} argument{plural}")
    fixed = tuple(int(n) % count for n in nums)
    if len(set(fixed)) != len(fixed):
        raise DualadError(f"{what}: argnums {argnums!r} names an argument twice")
    if plain and len(_CHECKED) < 1024:
        _CHECKED[(argnums, count)] = fixed, single
    return fixed, single


#: (argnums, argument count) -> the checked positions, for argnums of plain ints seen before
_CHECKED = {}
