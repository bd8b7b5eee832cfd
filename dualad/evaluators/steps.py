"""Step recorders: one sweep of either mode, as the list of the updates it made.

This module owns :class:`Step` and the two recording evaluators, :class:`ForwardSteps` and
:class:`ReverseSteps`. They are the reference evaluators with a hook: every term the one
assembly of the chain rule (:func:`~dualad.evaluators.base.push_tangent`,
:func:`~dualad.evaluators.base.pull_adjoints`) adds to a tangent or an adjoint is noted, with
the local partial it came from and the running sum before and after. Nothing is computed twice:
the traces (:mod:`dualad.traces`) and the step-by-step walkthrough show these records. Run on
sympy symbols, the same records are the formulas.

Examples
--------
>>> import dualad as ad
>>> from dualad.evaluators import ValueEvaluator
>>> from dualad.evaluators.steps import ReverseSteps
>>> graph = ad.trace(lambda x: x * x, 3.0)
>>> recorder = ReverseSteps(graph)
>>> adjoints = recorder.run(ValueEvaluator(graph).run([3.0]), [1.0])
>>> [(s.argument, s.partial, s.contribution, s.before, s.after) for s in recorder.steps]
[(None, None, 1.0, None, 1.0), (0, 3.0, 3.0, None, 3.0), (1, 3.0, 3.0, 3.0, 6.0)]
"""

from typing import NamedTuple

from .forward import ForwardEvaluator
from .reverse import ReverseEvaluator


class Step(NamedTuple):
    """One update of a sweep.

    ``instruction`` is the op whose rule made it (``None`` for a seed); ``argument`` the
    position among its inputs (``None`` for a structural op's whole forward term, or a seed);
    ``source`` the node whose tangent (forward) or adjoint (reverse) flowed; ``target`` the node
    updated; ``partial`` the local partial d(out)/d(input) (``None`` for a structural op, whose
    rule is a whole Jacobian product, and for a seed); ``contribution`` the term added;
    ``before`` and ``after`` the target's tangent or adjoint around the update (``before`` is
    ``None`` for its first contribution).
    """

    instruction: object
    argument: object
    source: int
    target: int
    partial: object
    contribution: object
    before: object
    after: object


class _Ordered:
    """Walk the program in a given order (``order``; by default the graph's own)."""

    order = None

    def walk(self, reverse=False):
        order = self.graph.program if self.order is None else self.order
        for instruction in (reversed(order) if reverse else order):
            self.visit(instruction)


class ForwardSteps(_Ordered, ForwardEvaluator):
    """``ForwardEvaluator`` noting each term added to each tangent, in ``.steps``.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators.steps import ForwardSteps
    >>> graph = ad.trace(lambda x, y: x * y, 2.0, 5.0)
    >>> recorder = ForwardSteps(graph)
    >>> _ = recorder.run([2.0, 5.0], [1.0, 0.0])
    >>> [(s.argument, s.partial, s.contribution, s.after) for s in recorder.steps]
    [(0, 5.0, 5.0, 5.0), (1, 2.0, 0.0, 5.0)]
    """

    def run(self, input_values, input_tangents, values=None):
        self.steps = []
        return super().run(input_values, input_tangents, values)

    def visit(self, instruction):
        total = [None]

        def note(j, partial, term):
            before = total[0]
            total[0] = term if before is None else before + term
            source = instruction.args[j] if j is not None else None
            self.steps.append(Step(instruction, j, source, instruction.pos, partial, term,
                                   before, total[0]))

        self.on_term = note
        super().visit(instruction)


class ReverseSteps(_Ordered, ReverseEvaluator):
    """``ReverseEvaluator`` noting each share added to each adjoint (the seeds first), in
    ``.steps``, in the order the sweep makes them.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators import ValueEvaluator
    >>> from dualad.evaluators.steps import ReverseSteps
    >>> graph = ad.trace(lambda x: ad.sin(x), 0.0)
    >>> recorder = ReverseSteps(graph)
    >>> _ = recorder.run(ValueEvaluator(graph).run([0.0]), [1.0])
    >>> [(s.target, s.partial, s.after) for s in recorder.steps]
    [(1, None, 1.0), (0, 1.0, 1.0)]
    """

    def run(self, values, seeds):
        self.steps = []
        self._current = None
        return super().run(values, seeds)

    def visit(self, instruction):
        shares = {}

        def note(j, partial, share):
            shares[j] = partial

        self.on_term = note
        self._current, self._partials, self._taken = instruction, shares, set()
        super().visit(instruction)
        self._current = None

    def accumulate(self, pos, contribution):
        before = self.adjoints[pos]
        super().accumulate(pos, contribution)
        instruction = self._current
        if instruction is None:           # a seed
            self.steps.append(Step(None, None, None, pos, None, contribution, before,
                                   self.adjoints[pos]))
            return
        # the argument this share is for: the next of this op's inputs at position pos
        j = next(j for j, a in enumerate(instruction.args) if a == pos and j not in self._taken)
        self._taken.add(j)
        self.steps.append(Step(instruction, j, instruction.pos, pos, self._partials.get(j),
                               contribution, before, self.adjoints[pos]))
