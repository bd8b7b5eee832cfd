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

from .errors import (DualadError, ExpressionError, GradientMismatchError, MissingDependencyError,
                     ShapeMismatchError)
from .graph import Graph, Var, topological_order, trace
from .dual import Dual
from .api import (grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp, value_and_grad,
                  vjp)
from .compile import CompiledFunction, compile  # noqa: A004 (the contract's name)
from .parse import parse
from .ops import (abs, add, arccos, arcsin, arctan, broadcast_to, cos, cosh, divide, dot, exp,
                  expm1, log, log1p, matmul, maximum, mean, minimum, multiply, negative, power,
                  reshape, sin, sinh, sqrt, square, stack, subtract, sum, tan, tanh, transpose)
from .primitives import REGISTRY, Primitive, register
from .printing import render, to_dot
from .compare import ModeComparison, TraceTable, compare, trace_table
from .plotting import plot_mode_costs, sweep_mode_costs
from .registry_proof import prove_registry
from .sympy_bridge import from_sympy, to_sympy
from .verify import VerificationReport, verify

__version__ = "0.1.0"

__all__ = [
    # graphs
    "Var", "Graph", "trace", "parse", "topological_order", "Dual",
    # transforms
    "grad", "value_and_grad", "jvp", "vjp", "jacobian", "jacfwd", "jacrev", "hessian", "hvp",
    "compile", "CompiledFunction",
    # the registry
    "REGISTRY", "Primitive", "register",
    # errors
    "DualadError", "ExpressionError", "GradientMismatchError", "ShapeMismatchError",
    "MissingDependencyError",
    # operations
    "abs", "add", "arccos", "arcsin", "arctan", "broadcast_to", "cos", "cosh", "divide", "dot",
    "exp", "expm1", "log", "log1p", "matmul", "maximum", "mean", "minimum", "multiply",
    "negative", "power", "reshape", "sin", "sinh", "sqrt", "square", "stack", "subtract", "sum",
    "tan", "tanh", "transpose",
    # sympy as the referee
    "verify", "VerificationReport", "to_sympy", "from_sympy", "prove_registry",
    # teaching the trade-off
    "compare", "ModeComparison", "trace_table", "TraceTable", "to_dot", "render",
    "sweep_mode_costs", "plot_mode_costs",
]
