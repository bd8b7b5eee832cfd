"""The transforms: grad, value_and_grad, jvp, vjp, jacobian, jacfwd, jacrev, hessian.

This module owns the user-facing transforms, with JAX's names and conventions. Each takes a
Python function (traced at the arguments it is called with) or a :class:`~dualad.graph.Graph`
(evaluated at them, without re-tracing), runs evaluators from :mod:`dualad.evaluators`, and
returns floats or numpy arrays. It owns no derivative rule: forward mode is
``ForwardEvaluator``, reverse mode ``ReverseEvaluator``, and Hessians compose the two
(the reverse evaluator run on dual numbers: forward-over-reverse).

Shapes follow JAX: for an argument of shape ``S`` and an output of shape ``O`` the Jacobian has
shape ``O + S``, the gradient of a scalar output has shape ``S``, and the Hessian ``S + S``.
With ``has_aux=True`` the function returns a pair ``(output, aux)``: the transform
differentiates the output and hands ``aux`` back beside its result, as JAX does
(:func:`with_aux`).

Transforms nest. A transform called while an enclosing transform is tracing its function
returns ``Var``s that the enclosing one differentiates in turn, and each level's perturbations
stay apart (no perturbation confusion):

>>> import dualad as ad
>>> ad.grad(lambda x: x * ad.grad(lambda y: x + y)(1.0))(1.0)     # d/dx [x * 1] = 1
1.0
>>> ad.grad(lambda x: x * ad.grad(lambda y: x * y)(1.0))(3.0)     # d/dx [x * x] = 2x
6.0
"""

import functools

import numpy as np

from .errors import DualadError, ShapeMismatchError
from .evaluators import DEFAULT
from .evaluators.reverse import as_result, default_seed
from .entry import check_argnums, prepare
from .graph import Graph, Var, tracing_depth
from .mathns import as_number
from .shapes import direction_groups, identity_blocks, shape_of
from .shapes import size as size_of
from .values import as_value, describe

MODES = ("forward", "reverse")


# ---- preparing a function or a graph ----

class _Run:
    """A graph with every node's value at the call's arguments.

    ``nested`` is True when this call happens while an enclosing transform traces its
    function and the graph depends on that trace: then values are the nodes themselves and
    every derivative is built as graph nodes, which the enclosing transform differentiates.
    """

    def __init__(self, f, args, what, mode=None, defer=False):
        # a transform that runs one mode's fast evaluator lets its trace release the values
        # that evaluator's programs do not read (they are computed again where needed)
        evaluator = DEFAULT.get(mode)
        release = mode if getattr(evaluator, "restores_released", False) else None
        # and, where that evaluator computes values and derivatives in one program from the
        # inputs alone, the trace may leave the values to it (``deferred``: see compute())
        defer = defer and getattr(evaluator, "runs_from_inputs", False)
        entry = prepare(f, args, what, release_values=release, defer=defer)
        graph = self.graph = entry.graph
        self.point = entry.point
        if not callable(f) or isinstance(f, Graph):     # a Graph or a Var: evaluated, not traced
            self.values = DEFAULT["value"](graph).run(entry.point)
            self.nested = False
            return
        self.nested = tracing_depth() > 0 and _inside(graph, args)
        if self.nested:
            self.values = list(graph.nodes)
        elif graph.deferred:
            self.values = None
        else:
            self.values = [n.value for n in graph.nodes]

    def compute(self):
        """Every node's value, for a trace that deferred them (``values`` is None until then);
        the nodes read their operands first, each computed once."""
        if self.values is None:
            self.values = [n.value for n in self.graph.nodes]
        return self.values

    def output_values(self):
        return [self.values[p] for p in self.graph.output_positions]

    def outputs(self, values):
        """Output values in the shape the user gets them (one, or a tuple)."""
        outs = [_user_value(v) for v in values]
        return outs[0] if self.graph.single_output else tuple(outs)

    def scalar_output(self, what):
        graph = self.graph
        if len(graph.outputs) != 1:
            raise ShapeMismatchError(f"{what}: the function returned {len(graph.outputs)} "
                                     "outputs; the output must be a single scalar (use "
                                     "jacobian for several outputs)")
        return graph.output_positions[0]


def _inside(graph, args):
    """True when a graph traced while another trace runs depends on that trace: an argument
    is one of its nodes, or the function read one (a leaf that is neither an input nor a
    constant)."""
    inputs = {id(n) for n in graph.inputs}
    return (any(isinstance(a, Var) for a in args)
            or any(n.op is None and not n.constant and id(n) not in inputs
                   for n in graph.nodes))


def _user_value(value):
    """A value as users get it: floats for scalars, numpy arrays otherwise (Vars when nested)."""
    if type(value) is float:
        return value
    if isinstance(value, Var) or hasattr(value, "primal"):
        return value
    if shape_of(value) == ():     # a numpy float64 too (a float subclass): a plain float
        return as_number(value)
    return np.array(value)


def _check_mode(mode, allowed, what):
    if mode not in allowed:
        raise DualadError(f"{what}: mode must be one of {', '.join(map(repr, allowed))}, "
                          f"got {mode!r}")


def _as_columns(stacked, sizes, row_shape, column_shapes):
    """Split ``stacked`` (N, *row_shape), whose entry k belongs to unit direction k, into one
    block per argument, each of shape ``row_shape + column_shape`` (the JAX layout)."""
    blocks, offset = [], 0
    for size, column_shape in zip(sizes, column_shapes):
        part = np.reshape(stacked[offset:offset + size], (size,) + tuple(row_shape))
        # the direction axis moved last (np.moveaxis(part, 0, -1), without its argument checks)
        last = part.transpose((*range(1, part.ndim), 0))
        blocks.append(_finish(last.reshape(tuple(row_shape) + tuple(column_shape))))
        offset += size
    return blocks


def _largest(run, wrt):
    """The most elements of a node that carries tangents or adjoints (one that depends on the
    inputs ``wrt``): what bounds a group of batched directions."""
    active = run.graph.activity(wrt)
    return max((size_of(shape_of(v)) for v, a in zip(run.values, active) if a), default=1)


def _joined(parts):
    """The tangents (or adjoints) of groups of directions, as one array along the first axis."""
    return np.asarray(parts[0]) if len(parts) == 1 else np.concatenate(parts)


def _finish(array):
    """A float for a 0-d result, else a fresh array."""
    array = np.array(array)
    return array.item() if array.shape == () else array


def _no_nesting(run, what):
    if run.nested:
        raise DualadError(f"{what}: cannot be used inside another transform's function yet; "
                          "use grad, value_and_grad, jvp or vjp there")


# ---- has_aux: f returns (output, aux) ----

def with_aux(f, has_aux, what):
    """``f`` as a transform differentiates it, and a list that receives each call's aux.

    Without ``has_aux`` that is ``(f, None)``. With it, ``f`` must be a Python function
    returning a pair ``(output, aux)``; the function returned gives the output and keeps
    ``aux`` in the list (each trace of ``f`` calls it once).

    Raises
    ------
    DualadError
        If ``f`` is a ``Graph`` or a ``Var`` (they have no aux), or, when called, ``f`` does
        not return a pair.

    Examples
    --------
    >>> from dualad.api import with_aux
    >>> output, aux = with_aux(lambda x: (x * x, "note"), True, "grad")
    >>> output(3.0), aux
    (9.0, ['note'])
    """
    if not has_aux:
        return f, None
    if isinstance(f, (Graph, Var)) or not callable(f):
        raise DualadError(f"{what}(has_aux=True): needs a Python function returning a pair "
                          f"(output, aux), got {describe(f)}")
    kept = []

    @functools.wraps(f)
    def output_only(*args):
        result = f(*args)
        if not isinstance(result, (tuple, list)) or len(result) != 2:
            raise DualadError(f"{what}(has_aux=True): the function must return a pair "
                              f"(output, aux); it returned {describe(result)}")
        kept[:] = [result[1]]
        return result[0]

    return output_only, kept


def _aux_value(aux, nested):
    """``aux`` as it was returned, with each ``Var`` in it (in tuples, lists and dicts) as its
    value, as JAX returns concrete values; inside an enclosing transform's trace, a ``Var``
    stays a node of that trace."""
    if nested:
        return aux
    if isinstance(aux, Var):
        return _user_value(aux.value)
    if type(aux) in (tuple, list):
        return type(aux)(_aux_value(a, nested) for a in aux)
    if isinstance(aux, tuple) and hasattr(aux, "_fields"):      # a namedtuple
        return type(aux)(*(_aux_value(a, nested) for a in aux))
    if type(aux) is dict:
        return {key: _aux_value(value, nested) for key, value in aux.items()}
    return aux


# ---- gradients ----

def value_and_grad(f, argnums=0, mode="reverse", has_aux=False):
    """A function returning ``(f(*args), gradient of f with respect to args[argnums])``.

    Parameters
    ----------
    f : callable or Graph
        Returns a scalar.
    argnums : int or tuple of int
        Which arguments to differentiate; a tuple gives a tuple of gradients.
    mode : {"reverse", "forward"}
        Reverse mode: one backward sweep. Forward mode: one tangent direction per input
        element (all of them pushed through one sweep).
    has_aux : bool
        ``f`` returns a pair ``(output, aux)``; the result is then ``((value, aux), grad)``,
        ``aux`` as ``f`` returned it (a ``Var`` in it as its value).

    Raises
    ------
    ShapeMismatchError
        If the output is not a scalar; the message gives its shape.
    DualadError
        With ``has_aux=True``, if ``f`` is not a function returning a pair.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.value_and_grad(lambda x, y: x * y + ad.sin(x), argnums=(0, 1))(0.0, 2.0)
    (0.0, (3.0, 0.0))
    >>> ad.value_and_grad(lambda x: (x * x, {"half": x / 2}), has_aux=True)(3.0)
    ((9.0, {'half': 1.5}), 6.0)
    """
    return _value_and_grad(f, argnums, mode, has_aux, "value_and_grad")


def _value_and_grad(f, argnums, mode, has_aux, what):
    _check_mode(mode, MODES, what)
    with_aux(f, has_aux, what)      # refuse a Graph or a Var now, not at the first call

    checked = {}        # the inputs' positions -> argnums checked, and the positions wanted

    def value_and_grad_f(*args):
        output, aux = with_aux(f, has_aux, what) if has_aux else (f, None)
        reverse = mode == "reverse"
        run = _Run(output, args, "grad", "reverse" if reverse else None, defer=reverse)
        graph = run.graph
        positions = graph.input_positions
        known = checked.get(positions)
        if known is None:
            nums, single = check_argnums(argnums, len(positions), "grad")
            known = checked[positions] = (single, tuple(positions[i] for i in nums))
        single, wrt = known
        out_pos = run.scalar_output("grad")
        if reverse:
            evaluator = DEFAULT["reverse"](graph, wrt=wrt)
            evaluator.inputs_only = True
            found = None if run.values is not None else evaluator.gradient_from_inputs()
            if found is None:
                out = run.compute()[out_pos]
                check_value = out.value if isinstance(out, Var) else out
                seed = default_seed(check_value, "grad", "use jacobian or vjp for other outputs")
                adjoints = evaluator.run(run.values, [seed])
            else:
                out, adjoints = found
            made = evaluator.made
            at = run.values or dict(zip(graph.input_positions, run.point))
            grads = [as_result(adjoints[p], at[p], made=p in made) for p in wrt]
        else:
            out = run.values[out_pos]
            check_value = out.value if isinstance(out, Var) else out
            default_seed(check_value, "grad", "use jacobian or vjp for other outputs")
            grads = _forward_gradient(run, wrt)
        value = _user_value(out)
        if has_aux:
            value = (value, _aux_value(aux[0], run.nested))
        return value, (grads[0] if single else tuple(grads))

    value_and_grad_f.__name__ = f"value_and_grad_{getattr(f, '__name__', 'f')}"
    return value_and_grad_f


def _forward_gradient(run, wrt):
    """Gradient of a scalar output by forward mode: the unit directions in batched sweeps."""
    if run.nested:
        return _forward_gradient_nested(run, wrt)
    shapes = [shape_of(run.values[p]) for p in wrt]
    evaluator = DEFAULT["forward"](run.graph, wrt=wrt, batch=1)
    evaluator.outputs_only = True
    out_pos = run.graph.output_positions[0]
    parts = []
    for start, stop in direction_groups(sum(map(size_of, shapes)), _largest(run, wrt)):
        blocks, sizes = identity_blocks(shapes, start, stop)
        _, tangents = evaluator.run(None, blocks, values=run.values)
        parts.append(tangents[out_pos])
    out_dot = None if parts[0] is None else _joined(parts)
    grads, offset = [], 0
    for shape, size in zip(shapes, sizes):
        if out_dot is None:
            grads.append(as_result(None, np.zeros(shape)))
        else:
            grads.append(as_result(np.reshape(out_dot[offset:offset + size], shape),
                                   np.zeros(shape)))
        offset += size
    return grads


def _forward_gradient_nested(run, wrt):
    """Forward-mode gradient inside an enclosing trace, one sweep per scalar input.

    Tangents are then graph nodes of the enclosing trace; with scalar inputs each sweep's
    output tangent is one entry of the gradient.
    """
    grads = []
    for k, pos in enumerate(wrt):
        value = run.values[pos]
        if shape_of(value.value if isinstance(value, Var) else value) != ():
            raise DualadError("grad(mode='forward'): inside another transform only scalar "
                              "arguments are supported; use mode='reverse'")
        directions = [1.0 if j == k else 0.0 for j in range(len(wrt))]
        _, tangents = DEFAULT["forward"](run.graph, wrt=wrt).run(None, directions,
                                                               values=run.values)
        grads.append(as_result(tangents[run.graph.output_positions[0]], 0.0))
    return grads


def grad(f, argnums=0, mode="reverse", has_aux=False):
    """The gradient of a scalar function, as a function of the same arguments.

    Parameters
    ----------
    f : callable or Graph
        Returns a scalar (a float or a 0-d array).
    argnums : int or tuple of int
        Which arguments to differentiate.
    mode : {"reverse", "forward"}
    has_aux : bool
        ``f`` returns a pair ``(output, aux)``; the gradient of the output comes back as
        ``(grad, aux)``, ``aux`` as ``f`` returned it (a ``Var`` in it as its value).

    Returns
    -------
    callable
        Returns a float for a float argument, an array of the argument's shape otherwise (a
        tuple of them for a tuple ``argnums``).

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> ad.grad(lambda x: ad.sum(x ** 2))(np.array([1.0, 2.0]))
    array([2., 4.])
    >>> ad.grad(lambda x: ad.sin(x), mode="forward")(0.0)
    1.0
    >>> ad.grad(lambda x: (x ** 3, x ** 2), has_aux=True)(2.0)      # (3x^2, aux = x^2)
    (12.0, 4.0)
    """
    value_and_grad_f = _value_and_grad(f, argnums, mode, has_aux, "grad")

    def grad_f(*args):
        value, g = value_and_grad_f(*args)
        return (g, value[1]) if has_aux else g

    grad_f.__name__ = f"grad_{getattr(f, '__name__', 'f')}"
    return grad_f


# ---- Jacobian-vector and vector-Jacobian products ----

def _as_tuple(x, what, name):
    if not isinstance(x, (tuple, list)):
        raise DualadError(f"{what}: {name} must be a tuple (one entry per argument), got "
                          f"{type(x).__name__}")
    return tuple(x)


def jvp(f, primals, tangents, has_aux=False):
    """Forward mode: ``(f(*primals), J(primals) @ tangents)`` in one sweep.

    Parameters
    ----------
    f : callable or Graph
    primals, tangents : tuple
        One entry per argument; each tangent has its primal's shape.
    has_aux : bool
        ``f`` returns a pair ``(output, aux)``; ``aux`` is then returned third.

    Returns
    -------
    (out, tangent_out) or (out, tangent_out, aux)
        Tuples when ``f`` has several outputs.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.jvp(lambda x, y: x * y, (2.0, 5.0), (1.0, 0.0))     # d(xy) along x = y
    (10.0, 5.0)
    """
    primals = _as_tuple(primals, "jvp", "primals")
    tangents = _as_tuple(tangents, "jvp", "tangents")
    if len(primals) != len(tangents):
        raise DualadError(f"jvp: {len(primals)} primals but {len(tangents)} tangents")
    output, aux = with_aux(f, has_aux, "jvp")
    run = _Run(output, primals, "jvp", "forward", defer=True)
    graph = run.graph
    checked = []
    for i, (p, t) in enumerate(zip(graph.input_positions, tangents)):
        t = as_value(t, f"jvp: tangent {i}")
        primal = graph.nodes[p].value if run.values is None else run.values[p]
        if shape_of(t) != shape_of(primal):
            raise ShapeMismatchError(f"jvp: tangent {i} has shape {shape_of(t)} but its primal "
                                     f"has shape {shape_of(primal)}")
        checked.append(t)
    evaluator = DEFAULT["forward"](graph)
    evaluator.outputs_only = True
    found = None
    if run.values is None:          # a deferred trace: values and tangents in one sweep
        try:
            found = evaluator.run(run.point, checked)
        except Exception:       # noqa: BLE001 (the values, computed below, say what is wrong)
            run.compute()
    if found is None:
        _, out_tangents = evaluator.run(None, checked, values=run.values)
        outs = run.output_values()
    else:
        values, out_tangents = found
        outs = [values[p] for p in graph.output_positions]
    dots = [_user_value(as_result(out_tangents[p], v))
            for p, v in zip(graph.output_positions, outs)]
    result = run.outputs(outs), (dots[0] if graph.single_output else tuple(dots))
    return result + (_aux_value(aux[0], run.nested),) if has_aux else result


def vjp(f, *primals, has_aux=False):
    """Reverse mode: ``(f(*primals), vjp_fn)`` where ``vjp_fn(cotangent)`` is ``cotangent @ J``.

    The forward sweep runs once; ``vjp_fn`` can then be called with many cotangents, each one
    backward sweep over the stored values (the tape). With ``has_aux=True`` ``f`` returns a
    pair ``(output, aux)`` and the result is ``(out, vjp_fn, aux)``, as in JAX.

    Returns
    -------
    (out, vjp_fn) or (out, vjp_fn, aux)
        ``vjp_fn`` takes one cotangent per output (of that output's shape) and returns a tuple
        with one cotangent per argument.

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> out, vjp_fn = ad.vjp(lambda x: x * np.array([1.0, 2.0, 3.0]), 2.0)
    >>> out
    array([2., 4., 6.])
    >>> vjp_fn(np.array([1.0, 1.0, 1.0]))
    (6.0,)
    """
    output, aux = with_aux(f, has_aux, "vjp")
    run = _Run(output, primals, "vjp")
    graph = run.graph
    outs = run.output_values()

    def vjp_fn(*cotangents):
        if graph.single_output and len(cotangents) == 1:
            seeds = list(cotangents)
        elif len(cotangents) == 1 and isinstance(cotangents[0], (tuple, list)):
            seeds = list(cotangents[0])
        else:
            seeds = list(cotangents)
        if len(seeds) != len(outs):
            raise DualadError(f"vjp: the function has {len(outs)} output(s) but "
                              f"{len(seeds)} cotangent(s) were given")
        checked = []
        for i, (seed, out) in enumerate(zip(seeds, outs)):
            seed = as_value(seed, f"vjp: cotangent {i}")
            out_shape = shape_of(out.value if isinstance(out, Var) else out)
            if shape_of(seed) != out_shape:
                raise ShapeMismatchError(f"vjp: cotangent {i} has shape {shape_of(seed)} but "
                                         f"the output has shape {out_shape}")
            checked.append(seed)
        evaluator = DEFAULT["reverse"](graph)
        evaluator.inputs_only = True
        adjoints = evaluator.run(run.values, checked)
        return tuple(_user_value(as_result(adjoints[p], run.values[p]))
                     for p in graph.input_positions)

    if has_aux:
        return run.outputs(outs), vjp_fn, _aux_value(aux[0], run.nested)
    return run.outputs(outs), vjp_fn


# ---- Jacobians ----

def jacobian(f, argnums=0, mode="auto", has_aux=False):
    """The Jacobian of ``f``, as a function of the same arguments.

    Parameters
    ----------
    f : callable or Graph
    argnums : int or tuple of int
    mode : {"auto", "forward", "reverse"}
        Forward mode pushes one direction per input element, reverse mode pulls one per
        output element; each batch goes through a single sweep. ``"auto"`` picks forward
        when the inputs have fewer elements than the outputs, else reverse.
    has_aux : bool
        ``f`` returns a pair ``(output, aux)``; the result is then ``(jacobian, aux)``.

    Returns
    -------
    callable
        For an argument of shape ``S`` and an output of shape ``O`` the Jacobian has shape
        ``O + S``; tuples for a tuple ``argnums`` and for several outputs (outputs first).

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> J = ad.jacobian(lambda x: x ** 2)(np.array([1.0, 2.0, 3.0]))
    >>> J
    array([[2., 0., 0.],
           [0., 4., 0.],
           [0., 0., 6.]])
    """
    _check_mode(mode, ("auto",) + MODES, "jacobian")
    with_aux(f, has_aux, "jacobian")

    def jacobian_f(*args):
        output, aux = with_aux(f, has_aux, "jacobian")
        run = _Run(output, args, "jacobian")
        _no_nesting(run, "jacobian")
        nums, single = check_argnums(argnums, len(run.graph.inputs), "jacobian")
        graph = run.graph
        wrt = [graph.input_positions[i] for i in nums]
        in_shapes = [shape_of(run.values[p]) for p in wrt]
        out_shapes = [shape_of(run.values[p]) for p in graph.output_positions]
        chosen = mode
        if mode == "auto":
            n = sum(size_of(s) for s in in_shapes)
            m = sum(size_of(s) for s in out_shapes)
            chosen = "forward" if n < m else "reverse"
        if chosen == "forward":
            blocks = _forward_jacobian(run, wrt, in_shapes, out_shapes)
        else:
            blocks = _reverse_jacobian(run, wrt, in_shapes, out_shapes)
        per_output = [blocks[j][0] if single else tuple(blocks[j]) for j in range(len(blocks))]
        result = per_output[0] if graph.single_output else tuple(per_output)
        return (result, _aux_value(aux[0], run.nested)) if has_aux else result

    jacobian_f.__name__ = f"jacobian_{getattr(f, '__name__', 'f')}"
    return jacobian_f


def _forward_jacobian(run, wrt, in_shapes, out_shapes):
    """blocks[j][i]: d output_j / d input_i, the columns by batched forward sweeps (one for
    all of them, or one per group where they would not fit: see ``direction_groups``)."""
    graph = run.graph
    evaluator = DEFAULT["forward"](graph, wrt=wrt, batch=1)
    evaluator.outputs_only = True
    parts = [[] for _ in out_shapes]
    for start, stop in direction_groups(sum(map(size_of, in_shapes)), _largest(run, wrt)):
        directions, sizes = identity_blocks(in_shapes, start, stop)
        _, tangents = evaluator.run(None, directions, values=run.values)
        for part, pos, out_shape in zip(parts, graph.output_positions, out_shapes):
            t = tangents[pos]
            part.append(np.zeros((stop - start,) + out_shape) if t is None else t)
    # t[k] is the output's tangent along direction k: column k of the Jacobian
    return [_as_columns(_joined(part), sizes, out_shape, in_shapes)
            for part, out_shape in zip(parts, out_shapes)]


def _reverse_jacobian(run, wrt, in_shapes, out_shapes):
    """blocks[j][i]: d output_j / d input_i, the rows by batched reverse sweeps (one for all
    of them, or one per group)."""
    graph = run.graph
    evaluator = DEFAULT["reverse"](graph, wrt=wrt, batch=1)
    evaluator.inputs_only = True
    parts = [[] for _ in wrt]
    for start, stop in direction_groups(sum(map(size_of, out_shapes)), _largest(run, wrt)):
        seeds, sizes = identity_blocks(out_shapes, start, stop)
        adjoints = evaluator.run(run.values, seeds)
        for part, pos, in_shape in zip(parts, wrt, in_shapes):
            a = adjoints[pos]
            part.append(np.zeros((stop - start,) + in_shape) if a is None else a)
    blocks = [[None] * len(wrt) for _ in out_shapes]
    for i, in_shape in enumerate(in_shapes):
        a = _joined(parts[i])
        # a[k] is the adjoint of this input for seed k: row k of the Jacobian
        offset = 0
        for j, (size, out_shape) in enumerate(zip(sizes, out_shapes)):
            blocks[j][i] = _finish(a[offset:offset + size].reshape(out_shape + in_shape))
            offset += size
    return blocks


def jacfwd(f, argnums=0, has_aux=False):
    """``jacobian(f, argnums, mode="forward")``: one tangent direction per input element.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.jacfwd(lambda x, y: x * y, argnums=(0, 1))(2.0, 5.0)
    (5.0, 2.0)
    """
    return jacobian(f, argnums, mode="forward", has_aux=has_aux)


def jacrev(f, argnums=0, has_aux=False):
    """``jacobian(f, argnums, mode="reverse")``: one adjoint seed per output element.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.jacrev(lambda x, y: x * y, argnums=(0, 1))(2.0, 5.0)
    (5.0, 2.0)
    """
    return jacobian(f, argnums, mode="reverse", has_aux=has_aux)


# ---- Hessians ----

def hessian(f, argnums=0, has_aux=False):
    """The Hessian of a scalar function, by forward-over-reverse.

    The reverse evaluator runs on dual numbers whose tangents carry every unit direction at
    once, so a single backward sweep returns the gradient (primal part) and every
    Hessian-vector product H e_k (tangent part). No second-derivative rule exists anywhere:
    the first-derivative rules, run on Duals, differentiate themselves.

    With ``has_aux=True`` ``f`` returns a pair ``(output, aux)`` and the result is
    ``(hessian, aux)``.

    Returns
    -------
    callable
        For an argument of shape ``S`` the Hessian has shape ``S + S``; a tuple ``argnums``
        gives a tuple of tuples of blocks ``H[i][j]`` = d^2 f / d x_i d x_j.

    Examples
    --------
    >>> import dualad as ad
    >>> ad.hessian(lambda x, y: x ** 2 * y, argnums=(0, 1))(3.0, 2.0)
    ((4.0, 6.0), (6.0, 0.0))
    """

    with_aux(f, has_aux, "hessian")

    def hessian_f(*args):
        from .dual import Dual
        output, aux = with_aux(f, has_aux, "hessian")
        entry = prepare(output, args, "hessian")
        graph, values_at = entry.graph, entry.point
        if callable(f) and not isinstance(f, Graph) and tracing_depth() > 0 and any(
                isinstance(a, Var) for a in args):
            raise DualadError("hessian: cannot be used inside another transform's function "
                              "yet; use grad, value_and_grad, jvp or vjp there")
        nums, single = check_argnums(argnums, len(graph.inputs), "hessian")
        if len(graph.outputs) != 1:
            raise ShapeMismatchError("hessian: the function must return a single scalar, got "
                                     f"{len(graph.outputs)} outputs (differentiate one scalar, "
                                     "e.g. a sum, or take the jacobian of the gradient)")
        shapes = [shape_of(values_at[i]) for i in nums]
        directions, sizes = identity_blocks(shapes)
        inputs = list(values_at)
        for i, direction in zip(nums, directions):
            inputs[i] = Dual(values_at[i], direction)
        values = DEFAULT["value"](graph).run(inputs)          # forward sweep on Duals
        out = values[graph.output_positions[0]]
        default_seed(out.primal if isinstance(out, Dual) else out, "hessian",
                     "hessian differentiates a scalar function twice: reduce the output "
                     "first (ad.sum(...) or one element), or use jacobian for its first "
                     "derivatives")
        wrt = [graph.input_positions[i] for i in nums]
        adjoints = DEFAULT["reverse"](graph, wrt=wrt).run(values, [1.0])
        total = sum(sizes)
        rows = []
        for pos, shape_i in zip(wrt, shapes):
            adjoint = adjoints[pos]
            # tangent[k] = d(gradient_i)/d(direction k): H e_k restricted to argument i
            if isinstance(adjoint, Dual):
                tangent = np.asarray(adjoint.tangent)
            else:
                tangent = np.zeros((total,) + shape_i)
            rows.append(_as_columns(tangent, sizes, shape_i, shapes))
        result = rows[0][0] if single else tuple(tuple(row) for row in rows)
        return (result, _aux_value(aux[0], False)) if has_aux else result

    hessian_f.__name__ = f"hessian_{getattr(f, '__name__', 'f')}"
    return hessian_f


def hvp(f, primals, tangents):
    """Hessian-vector product ``H(primals) @ tangents`` of a scalar function, forward-over-reverse.

    One forward sweep on dual numbers and one backward sweep; never forms the Hessian.

    Examples
    --------
    >>> import numpy as np, dualad as ad
    >>> ad.hvp(lambda x: ad.sum(x ** 3), (np.array([1.0, 2.0]),), (np.array([1.0, 0.0]),))
    (array([6., 0.]),)
    """
    from .dual import Dual
    primals = _as_tuple(primals, "hvp", "primals")
    tangents = _as_tuple(tangents, "hvp", "tangents")
    if len(primals) != len(tangents):
        raise DualadError(f"hvp: {len(primals)} primals but {len(tangents)} tangents")
    entry = prepare(f, primals, "hvp")
    graph, primals = entry.graph, entry.point
    duals = []
    for i, (p, t) in enumerate(zip(primals, tangents)):
        t = as_value(t, f"hvp: tangent {i}")
        if shape_of(t) != shape_of(p):
            raise ShapeMismatchError(f"hvp: tangent {i} has shape {shape_of(t)} but its primal "
                                     f"has shape {shape_of(p)}")
        duals.append(Dual(p, t))
    values = DEFAULT["value"](graph).run(duals)
    out = values[graph.output_positions[0]]
    default_seed(out.primal if isinstance(out, Dual) else out, "hvp",
                 "a Hessian-vector product needs a scalar function")
    adjoints = DEFAULT["reverse"](graph).run(values, [1.0])
    result = []
    for pos, p in zip(graph.input_positions, primals):
        adjoint = adjoints[pos]
        tangent = adjoint.tangent if isinstance(adjoint, Dual) else np.zeros(shape_of(p))
        result.append(_finish(tangent))
    return tuple(result)
