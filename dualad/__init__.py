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

from .errors import (BranchChangedError, DerivativeLostError, DualadError, ExpressionError,
                     GradientMismatchError, MissingDependencyError, ShapeMismatchError,
                     SingularMatrixError)
# the registry, whole: the elementwise ops, then the modules that register the others
from . import primitives, structural, reductions, linalg  # noqa: F401,I001
from .graph import Graph, Var, topological_order, trace
from .dual import Dual
from .taylor import Taylor, taylor
from .api import (grad, hessian, hvp, jacfwd, jacobian, jacrev, jvp, value_and_grad,
                  vjp)
from .compile import CompiledFunction, compile  # noqa: A004 (the contract's name)
from .parse import parse
from .ops import COMPOSITES, concatenate, dot, einsum, stack
from .primitives import REGISTRY, Primitive, register
from . import linalg
from .graphviz import render, to_dot
from .compare import ModeComparison, compare
from .traces import TraceTable, trace_table
from .walkthrough import Walkthrough, walkthrough
from .plotting import plot_mode_costs, sweep_mode_costs
from .fdstudy import FDStudy, fd_study
from .registry_proof import prove_registry
from .sympy_bridge import from_sympy, to_sympy
from .verify import VerificationReport, verify

__version__ = "0.1.0"

#: The user function of every public registry op (ad.sin, ad.sum, ad.where, ...), made by the
#: registry itself: adding an op is one block in dualad/primitives.py or dualad/structural.py.
OPERATIONS = sorted(name for name, prim in REGISTRY.items()
                    if prim.public and prim.namespace is None) + list(COMPOSITES)
globals().update({name: prim.function for name, prim in REGISTRY.items()
                  if prim.public and prim.namespace is None})


def __getattr__(name):
    # an op registered while the program runs is ad.<name> too
    prim = REGISTRY.get(name)
    if prim is not None and prim.public and prim.namespace is None:
        return prim.function
    raise AttributeError(f"module 'dualad' has no attribute {name!r}")

__all__ = [
    # graphs
    "Var", "Graph", "trace", "parse", "topological_order", "Dual", "Taylor",
    # transforms
    "grad", "value_and_grad", "jvp", "vjp", "jacobian", "jacfwd", "jacrev", "hessian", "hvp",
    "compile", "CompiledFunction", "taylor",
    # the registry
    "REGISTRY", "Primitive", "register",
    # errors
    "DualadError", "ExpressionError", "GradientMismatchError", "ShapeMismatchError",
    "MissingDependencyError", "DerivativeLostError", "BranchChangedError",
    "SingularMatrixError",
    # operations (one per public registry op, see OPERATIONS); ad.linalg as numpy.linalg
    *OPERATIONS, "linalg",
    # sympy as the referee
    "verify", "VerificationReport", "to_sympy", "from_sympy", "prove_registry",
    # teaching the trade-off
    "compare", "ModeComparison", "trace_table", "TraceTable", "to_dot", "render",
    "walkthrough", "Walkthrough",
    "sweep_mode_costs", "plot_mode_costs",
    # finite differences against dualad: the step-size study
    "fd_study", "FDStudy",
]
