"""The seed program's demo, with its bugs fixed: gradient descent on ``w``.

At x = 1 and w = 4 it builds

    v1 = x * w;   v2 = sin(v1);   v3 = v1 + v2;   v4 = v2 ** 2
    v5 = exp(v3); v6 = v4 * w;    v7 = v5 + v6

and takes 30 steps of gradient descent on ``w`` with learning rate 0.1. Each step calls
``v7.forward()`` and ``v7.backward()`` (the seed's loop never did) before printing
``w``, ``v7`` and ``dv7/dw`` and updating ``w``.

Examples
--------
>>> from dualad.demo import seed_graph
>>> x, w, v7 = seed_graph()
>>> round(v7.value, 6)
27.906497
"""

from .ops import add, exp, multiply, sin, square
from .graph import Var

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
    >>> lines[1]
    'step  0  w = 4.000000000000  v7 = 27.906496678144  dv7/dw = 13.402273659200'
    """
    x, w, v7 = seed_graph()
    write(f"dualad demo: the seed program at x = {x.value:g}, "
          f"{steps} steps of gradient descent on w (learning rate {learning_rate:g})")
    for step in range(steps):
        v7.forward()
        v7.backward()
        write(f"step {step:2d}  w = {w.value:.12f}  v7 = {v7.value:.12f}  "
              f"dv7/dw = {w.deriv:.12f}")
        w.value = w.value - learning_rate * w.deriv
    v7.forward()
    write(f"final    w = {w.value:.12f}  v7 = {v7.value:.12f}")
    return w.value
