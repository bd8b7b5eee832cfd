"""The registry proves itself: every derivative rule against ``sympy.diff`` of its op's sympy form.

This module owns :func:`prove_registry` and its :class:`RegistryProof` of :class:`RuleProof`
rows (each derivative rule) and :class:`ComplexStep` rows (each op's complex-analyticity, as
declared and as probed). The proof steps are the referee's (:func:`dualad.referee.prove_equal`);
the work runs in a worker process under a time limit (:mod:`dualad.timelimit`). Checking one
function's derivatives is :mod:`dualad.verify`.

Examples
--------
>>> import dualad as ad
>>> ad.prove_registry().ok
True
"""

from dataclasses import dataclass, field

import numpy as np
import sympy as sp

from .evaluators.symbolic import exact
from .mathns import SYMPY, diff_almost_everywhere
from .primitives import BOOLEAN, POSITIVE, REGISTRY
from .referee import DEFAULT_EXAMPLES, probe_analytic, prove_equal, short
from .shapes import shape_of
from .timelimit import Worker, collect

@dataclass
class ComplexStep:
    """Whether ``verify``'s oracle may use the complex step on one op: what the op declares
    (``analytic``), checked by :func:`dualad.referee.probe_analytic`.

    ``verdict`` is ``"confirmed"`` (declared analytic, and the probe agrees), ``"refuted"``
    (declared analytic, and the probe disagrees), ``"declared"`` (declared not analytic) or
    ``"derived"`` (left to the probe, whose answer ``verify`` uses).

    Examples
    --------
    >>> from dualad.registry_proof import prove_registry
    >>> for c in prove_registry().complex_steps:
    ...     if c.op in ("tanh", "abs"):
    ...         print(c)
    complex step: derived, analytic
    complex step: declared not analytic (central differences)
    """

    op: str
    declared: object
    applies: bool
    verdict: str
    how: str

    def __str__(self):
        if self.verdict == "declared":
            return "complex step: declared not analytic (central differences)"
        if self.verdict == "derived":
            return "complex step: derived, " + (
                "analytic" if self.applies else f"not analytic (central differences): {self.how}")
        return f"complex step: declared analytic, {self.verdict}" + (
            "" if self.verdict == "confirmed" else f": {self.how}")


def _complex_step(prim):
    """The :class:`ComplexStep` row of one op."""
    if prim.analytic is False:
        return ComplexStep(prim.name, False, False, "declared", "")
    applies, how = probe_analytic(prim)
    if prim.analytic is None:
        return ComplexStep(prim.name, None, applies, "derived", how)
    return ComplexStep(prim.name, True, True, "confirmed" if applies else "refuted", how)


@dataclass
class RuleProof:
    """One registry rule against ``sympy.diff`` of its op's sympy form.

    Examples
    --------
    >>> from dualad.registry_proof import prove_registry
    >>> rule = next(r for r in prove_registry().rules if r.op == "divide" and r.rule == "d/db")
    >>> rule.expression, rule.reference, rule.verdict
    ('-a/b**2', '-a/b**2', 'proved')
    """

    op: str
    rule: str
    expression: str
    reference: str
    verdict: str
    how: str
    assumptions: str = ""


def _domain_symbol(name, domain):
    if domain == BOOLEAN:
        return sp.Symbol(name)          # a condition
    if domain.is_subset(POSITIVE):
        return sp.Symbol(name, positive=True)
    if domain.contains(0) is sp.false:  # smooth away from 0 (a norm): nonzero reals
        return sp.Symbol(name, real=True, nonzero=True)
    return sp.Symbol(name, real=True)


def _assumption(symbol):
    return (f"{symbol} > 0" if symbol.is_positive else f"{symbol} != 0" if symbol.is_nonzero
            else f"{symbol} real" if symbol.is_real else f"{symbol} boolean")


def _elementwise_rules(prim):
    names = ["x"] if prim.nin == 1 else list("abcdefgh"[:prim.nin])
    symbols = [_domain_symbol(n, d) for n, d in zip(names, prim.domain)]
    spec = prim.sympy(*symbols)
    assumed = ", ".join(_assumption(s) for s in symbols)
    if prim.boolean:
        yield RuleProof(prim.name, "all", "-", "-", "proved", "a boolean value: no derivative "
                        "flows through it", assumed)
        return
    for j, pd in enumerate(prim.pds):
        rule = exact(pd(SYMPY, *symbols, spec))
        reference = diff_almost_everywhere(spec, symbols[j])
        verdict, how = prove_equal(rule, reference)
        if prim.zero_derivative and verdict == "proved":
            how += " (away from the jumps, where it is not defined)"
        yield RuleProof(prim.name, f"d/d{symbols[j]}", short(rule, 60), short(reference, 60),
                        verdict, how, assumed)


def _symbol_array(prefix, shape, domain=sp.S.Reals):
    array = np.empty(shape, dtype=object)
    for n, index in enumerate(np.ndindex(shape)):
        array[index] = _domain_symbol(f"{prefix}{n}", domain)
    return array if shape else array[()]


def _worst_verdict(pairs):
    """Combine elementwise proofs: disproved beats unproved beats proved."""
    pairs = list(pairs)
    for verdict in ("disproved", "unproved"):
        for v, how in pairs:
            if v == verdict:
                return v, how
    return "proved", pairs[0][1] if pairs else "nothing to prove"


def _structural_rules(prim, shapes, params):
    # each input's entries with the assumptions of its domain (nonzero for a norm)
    xs = [_symbol_array("ab"[j] if prim.nin <= 2 else f"x{j}_", s, prim.domain[j])
          for j, s in enumerate(shapes)]
    where = f"shapes {', '.join(map(str, shapes))}" + "".join(f", {k}={v}"
                                                             for k, v in params.items())
    where += "".join(f", entries of {'ab'[j] if prim.nin <= 2 else f'x{j}'} "
                     f"{_assumption(_domain_symbol('x', d))[2:]}"
                     for j, d in enumerate(prim.domain) if d != sp.S.Reals)
    out = prim.evaluate_symbolic(*xs, **params)
    out_flat = list(np.ravel(np.asarray(out, dtype=object)))
    g = _symbol_array("g", shape_of(out))
    g_flat = list(np.ravel(np.asarray(g, dtype=object)))
    for j, x in enumerate(xs):
        x_flat = list(np.ravel(np.asarray(x, dtype=object)))
        name = "ab"[j] if prim.nin <= 2 else f"x{j}"
        # jvp: d out = sum_i (d out / d x_i) t_i
        t = _symbol_array("t", shapes[j])
        tangents = [None] * prim.nin
        tangents[j] = t
        t_flat = list(np.ravel(np.asarray(t, dtype=object)))
        out_dot = np.ravel(np.asarray(prim.jvp(SYMPY, tangents, xs, out, 0, **params),
                                      dtype=object))
        expected = [sum((sp.diff(o, xi) * ti for xi, ti in zip(x_flat, t_flat)), sp.S.Zero)
                    for o in out_flat]
        verdict, how = _worst_verdict(prove_equal(a, r) for a, r in zip(out_dot, expected))
        yield RuleProof(prim.name, f"jvp for {name}, {where}", "(arrays)", "(arrays)",
                        verdict, how)
        # vjp: x_bar_i = sum_k g_k (d out_k / d x_i)
        x_bar = np.ravel(np.asarray(prim.vjp(SYMPY, g, xs, out, 0, **params)[j], dtype=object))
        expected = [sum((gk * sp.diff(o, xi) for gk, o in zip(g_flat, out_flat)), sp.S.Zero)
                    for xi in x_flat]
        verdict, how = _worst_verdict(prove_equal(a, r) for a, r in zip(x_bar, expected))
        yield RuleProof(prim.name, f"vjp for {name}, {where}", "(arrays)", "(arrays)",
                        verdict, how)


def _registry_work(registry):
    def work():
        for prim in registry.values():
            yield _complex_step(prim)
            if prim.sympy is None:
                yield RuleProof(prim.name, "all", "-", "-", "unproved", "no sympy form")
            elif prim.elementwise:
                yield from _elementwise_rules(prim)
            else:
                examples = prim.examples or DEFAULT_EXAMPLES.get(prim.nin, ())
                for shapes, params in examples:
                    try:
                        yield from _structural_rules(prim, shapes, params)
                    except Exception as err:  # a user's op that does not take these shapes
                        yield RuleProof(prim.name, f"shapes {shapes}", "-", "-", "unproved",
                                        f"could not run: {type(err).__name__}: {err}")
    return work


@dataclass
class RegistryProof:
    """The result of :func:`prove_registry`: one :class:`RuleProof` per rule, and one
    :class:`ComplexStep` per op.

    Examples
    --------
    >>> import dualad as ad
    >>> proof = ad.prove_registry()
    >>> proof.ok, sorted({rule.verdict for rule in proof.rules})
    (True, ['proved'])
    """

    rules: list
    finished: bool
    time_limit: float
    error: str = None
    complex_steps: list = field(default_factory=list)

    @property
    def ok(self):
        """Every rule proved, and no op's declared complex-analyticity refuted."""
        return (self.finished and bool(self.rules)
                and all(rule.verdict == "proved" for rule in self.rules)
                and all(c.verdict != "refuted" for c in self.complex_steps))

    def __str__(self):
        lines = ["every registry rule against sympy.diff of its op's sympy form", "",
                 f"{'op':<10} {'rule':<6} {'dualad rule':<22} {'sympy.diff':<22} "
                 f"{'assuming':<16} result"]
        structural = []
        for r in self.rules:
            if r.expression == "(arrays)":
                structural.append(r)
                continue
            lines.append(f"{r.op:<10} {r.rule:<6} {r.expression:<22} {r.reference:<22} "
                         f"{r.assumptions:<16} {_verdict(r)}")
        if structural:
            lines += ["", f"{'op':<10} {'rule (on arrays of real symbols)':<52} result"]
            lines += [f"{r.op:<10} {r.rule:<52} {_verdict(r)}" for r in structural]
        if self.complex_steps:
            lines += ["", f"{'op':<10} verify's oracle"]
            lines += [f"{c.op:<10} {c}" for c in self.complex_steps]
        ops = len({r.op for r in self.rules})
        proved = sum(r.verdict == "proved" for r in self.rules)
        applies = sum(c.applies for c in self.complex_steps)
        refuted = sum(c.verdict == "refuted" for c in self.complex_steps)
        lines.append("")
        lines.append(f"{ops} ops, {len(self.rules)} rules, {proved} proved"
                     + (f"; the complex step for {applies} ops, central differences for "
                        f"{len(self.complex_steps) - applies}" if self.complex_steps else "")
                     + (f"; {refuted} declared analytic but refuted" if refuted else "")
                     + ("" if self.finished else
                        f"; stopped at the time limit of {self.time_limit:g} s")
                     + (f"; failed: {self.error}" if self.error else ""))
        return "\n".join(lines)


def _verdict(rule):
    return rule.verdict if rule.verdict == "proved" else f"{rule.verdict} ({rule.how})"


def prove_registry(registry=None, time_limit=120.0):
    """Prove every rule of the registry equal to ``sympy.diff`` of its op's sympy form.

    Each elementwise op's local partial, for every argument, on symbols with the assumptions of
    the op's domain (``positive=True`` for ``log``); each structural op's jvp and vjp, for
    every argument, on arrays of symbols of the shapes in each op's ``examples``. For each op
    also whether ``verify``'s oracle may use the complex step on it: a declared
    ``analytic=True`` is checked by :func:`dualad.referee.probe_analytic` (and the proof fails
    if the probe refutes it), an ``analytic=None`` is left to the probe. The work runs in a
    worker process, stopped after ``time_limit`` seconds (``float("inf")``: no limit).

    Parameters
    ----------
    registry : dict, optional
        name -> Primitive; ``dualad.REGISTRY`` by default.

    Examples
    --------
    >>> import dualad as ad
    >>> proof = ad.prove_registry()
    >>> proof.ok
    True
    >>> print(proof)  # doctest: +ELLIPSIS
    every registry rule against sympy.diff of its op's sympy form
    ...
    tan        d/dx   tan(x)**2 + 1          tan(x)**2 + 1          x real           proved
    ...
    """
    worker = Worker(_registry_work(REGISTRY if registry is None else registry))
    collect([worker], time_limit)
    rules = [m for m in worker.messages if isinstance(m, RuleProof)]
    complex_steps = [m for m in worker.messages if isinstance(m, ComplexStep)]
    return RegistryProof(rules=rules, finished=worker.finished, time_limit=time_limit,
                         error=worker.error, complex_steps=complex_steps)
