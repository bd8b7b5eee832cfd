"""``dualad demo``: the course's first program, gradient descent on ``w``.

At x = 1 and w = 4 it builds

    v1 = x * w;   v2 = sin(v1);   v3 = v1 + v2;   v4 = v2 ** 2
    v5 = exp(v3); v6 = v4 * w;    v7 = v5 + v6

and takes 30 steps of gradient descent on ``w`` with learning rate 0.1. Each step calls
``v7.forward()`` (the values at the new ``w``) and ``v7.backward()`` (reverse mode) before
printing ``w``, ``v7`` and ``dv7/dw`` and updating ``w``. The first line says all that, with
v7 written out in x and w.

Examples
--------
>>> from dualad.demo import seed_graph
>>> x, w, v7 = seed_graph()
>>> round(v7.value, 6)
27.906497
"""

from .ops import add, exp, multiply, sin, square
from .graph import Graph, Var
from .printing import expression_text

STEPS = 30
LEARNING_RATE = 0.1


def seed_graph(x=1.0, w=4.0):
    """Build the seed program's graph; returns the leaves ``x``, ``w`` and the output ``v7``.

    Examples
    --------
    >>> from dualad.demo import seed_graph
    >>> x, w, v7 = seed_graph()
    >>> v7.op.name, [c.op.name for c in v7.children]
    ('add', ['exp', 'multiply'])
    """
    x, w = Var(x, name="x"), Var(w, name="w")
    v1 = multiply(x, w)
    v2 = sin(v1)
    v3 = add(v1, v2)
    v4 = square(v2)
    v5 = exp(v3)
    v6 = multiply(v4, w)
    v7 = add(v5, v6)
    return x, w, v7


def run_demo(write=print, steps=STEPS, learning_rate=LEARNING_RATE):
    """Run the seed's gradient descent, writing one line per step and a final line.

    Returns the final ``w``.

    Examples
    --------
    >>> from dualad.demo import run_demo
    >>> lines = []
    >>> w = run_demo(write=lines.append, steps=1)
    >>> print(lines[0])
    dualad demo: v7 = exp(x * w + sin(x * w)) + square(sin(x * w)) * w at x = 1, from w = 4: 1 step of gradient descent on w (learning rate 0.1), each line w, v7 and dv7/dw
    >>> lines[1]
    'step  0  w = 4.000000000000  v7 = 27.906496678144  dv7/dw = 13.402273659200'
    """
    x, w, v7 = seed_graph()
    graph = Graph(v7)
    formula = expression_text(graph, graph.output_positions[0], limit=200)
    write(f"dualad demo: v7 = {formula} at x = {x.value:g}, from w = {w.value:g}: {steps} "
          f"step{'s' * (steps != 1)} of gradient descent on w (learning rate "
          f"{learning_rate:g}), each line w, v7 and dv7/dw")
    for step in range(steps):
        v7.forward()
        v7.backward()
        write(f"step {step:2d}  w = {w.value:.12f}  v7 = {v7.value:.12f}  "
              f"dv7/dw = {w.deriv:.12f}")
        w.value = w.value - learning_rate * w.deriv
    v7.forward()
    write(f"final    w = {w.value:.12f}  v7 = {v7.value:.12f}")
    return w.value
