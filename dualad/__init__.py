"""dualad: automatic differentiation in both modes over one shared graph, verified by sympy.

Public names only; each is defined in the module that owns it.

Examples
--------
>>> import dualad as ad
>>> x = ad.Var(3.0, name="x")
>>> y = x * x + ad.sin(x)
>>> y.backward()
>>> round(x.deriv, 6)          # 2x + cos x at x = 3
5.010008
"""

from .errors import DualadError, ExpressionError, GradientMismatchError, ShapeMismatchError
from .graph import Graph, Var, topological_order, trace
from .parse import parse
from .ops import (abs, add, arccos, arcsin, arctan, cos, cosh, divide, dot, exp, expm1, log,
                  log1p, matmul, maximum, mean, minimum, multiply, negative, power, sin, sinh,
                  sqrt, square, subtract, sum, tan, tanh, transpose)
from .primitives import REGISTRY, Primitive, register
from .verify import VerificationReport, from_sympy, prove_registry, to_sympy, verify

__version__ = "0.1.0"

__all__ = [
    "DualadError", "ExpressionError", "GradientMismatchError", "ShapeMismatchError",
    "Graph", "Var", "topological_order", "trace", "parse", "REGISTRY", "Primitive", "register",
    "abs", "add", "arccos", "arcsin", "arctan", "cos", "cosh", "divide", "dot", "exp",
    "expm1", "log", "log1p", "matmul", "maximum", "mean", "minimum", "multiply", "negative",
    "power", "sin", "sinh", "sqrt", "square", "subtract", "sum", "tan", "tanh", "transpose",
    "VerificationReport", "from_sympy", "prove_registry", "to_sympy", "verify",
]
