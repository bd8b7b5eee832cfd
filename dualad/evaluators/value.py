"""ValueEvaluator: the primal computation, every node's value from the inputs'.

Examples
--------
>>> import dualad as ad
>>> from dualad.evaluators import ValueEvaluator
>>> x = ad.Var(1.0)
>>> ValueEvaluator(ad.Graph(ad.exp(x) - 1)).run([0.0])[-1]
0.0
"""

from .base import Evaluator


class ValueEvaluator(Evaluator):
    """Evaluate a graph at given input values; ``run`` returns every node's value.

    Examples
    --------
    >>> import dualad as ad
    >>> from dualad.evaluators import ValueEvaluator
    >>> x = ad.Var(2.0, name="x")
    >>> ValueEvaluator(ad.Graph(x * x + 1)).run([3.0])
    [3.0, 9.0, 1.0, 10.0]
    """

    def run(self, input_values):
        """Values of all nodes (in ``graph.nodes`` order) at these input values."""
        self.values = self.graph.leaf_values(input_values)
        self.walk()
        self.graph.check_guards(self.values)
        return self.values

    def visit(self, instruction):
        values = self.values
        args = [values[a] for a in instruction.args]
        values[instruction.pos] = instruction.prim.evaluate(*args, **instruction.params)
