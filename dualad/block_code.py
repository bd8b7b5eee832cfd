"""The code of a long compiled program's blocks, compiled once per shape.

:func:`dualad.compile` writes a long program as functions of a few hundred lines each,
``def block_k(r):``, whose lines read and write registers ``r[n]``. A graph that repeats itself
(a chain, an unrolled loop, the layers of a model) gives blocks that differ only in their register
numbers, and Python's parser, about three quarters of what ``compile()`` costs, would read the
same text again for each of them.

This module compiles a block once per *shape*: its lines with each register number left out,
and which registers are the same one. A block of a shape already compiled gets that code object
with its own register numbers swapped in among the constants (``code.replace``), which is the
code compiling its own text gives: the same instructions, the same constants in the same order.
Only the column offsets in the line table may differ, and a block's text is not kept for
tracebacks anyway.

Only register numbers of at least :data:`SMALLEST_REGISTER` are swapped (Python 3.14 codes
smaller integers into the instruction itself, not among the constants); smaller ones, such as
the inputs an unrolled loop reads in every block, are part of the shape as they are written.
The swap is made only where it is safe to make: no other number written in the lines equals
one of the registers swapped (it would share their constant), no string is written in them,
and the block's code holds no code object of its own (whose constants would not be swapped).
Anything else is compiled from its text.

Once every block is compiled, :func:`side_by_side` makes the integers among a block's
constants again, one after the other in the order the code reads them, so that they lie side
by side in memory. Each ``r[n]`` reads its ``n`` (an int object of its own) as well as the
register, and the integers Python's compiler made lie wherever its parser's freed objects
left room: on a random DAG of 10,000 nodes, whose reverse sweep reads registers all over the
list, the compiled code ran at 1.3x to 1.9x the hand-written straight-line code with the
compiler's integers, and at 0.9x to 1.03x with integers made side by side.

Examples
--------
>>> from dualad.block_code import BlockCode
>>> code = BlockCode()
>>> first = code.function("def block_0(r):\\n    r[1001] = sin(r[1000])\\n", "<block 0>")
>>> second = code.function("def block_1(r):\\n    r[2001] = sin(r[2000])\\n", "<block 1>")
>>> second.co_name, 2000 in second.co_consts, 1000 in second.co_consts, code.compiled
('block_1', True, False, 1)
"""

import builtins
import re
import types

#: the smallest register number swapped among a code object's constants
SMALLEST_REGISTER = 256

# ``r[n]`` with n >= SMALLEST_REGISTER (256): the registers swapped. Smaller ones (the inputs, the
# first values: an unrolled loop reads its parameters in every block) stay in the shape as
# they are written, so blocks that read them are reused too. Any ``name[digits]`` ending in
# ``r`` is taken for a register: swapping such a number is as safe (the same checks hold), and
# the pattern without a look-behind is several times faster.
_REGISTER = re.compile(r"r\[(25[6-9]|2[6-9]\d|[3-9]\d\d|[1-9]\d{3,})\]")
_DIGITS = re.compile(r"\d+")
_NOT_REUSABLE = object()


class BlockCode:
    """Compiles the blocks of one compiled function, each shape of block once.

    ``compiled`` counts the texts given to Python's ``compile()``; ``reused`` the blocks made
    from a code object compiled before.
    """

    def __init__(self):
        self._shapes = {}         # shape -> (function code, its registers), or _NOT_REUSABLE
        self.compiled = 0
        self.reused = 0

    def function(self, text, filename):
        """The code object of the one function ``text`` defines (``def name(r):`` and its
        lines), as ``compile(text, filename, "exec")`` would make it."""
        header, body = text.split("\n", 1)
        name = header[len("def "):header.index("(")]
        shape, registers = _shape(body)
        known = self._shapes.get(shape) if shape is not None else None
        if known is not None and known is not _NOT_REUSABLE:
            code, template = known
            swap = dict(zip(template, registers))
            constants = [swap.get(c, c) if type(c) is int else c for c in code.co_consts]
            self.reused += 1
            return code.replace(co_consts=tuple(constants), co_name=name, co_qualname=name,
                                co_filename=filename)
        module = builtins.compile(text, filename, "exec")
        self.compiled += 1
        functions = [c for c in module.co_consts if isinstance(c, types.CodeType)]
        if len(functions) != 1:
            raise ValueError(f"block_code: expected one function in {header!r}")
        code = functions[0]
        if shape is not None and known is None:
            integers = {c for c in code.co_consts if type(c) is int}
            nested = any(isinstance(c, types.CodeType) for c in code.co_consts)
            self._shapes[shape] = (code, registers) if (
                not nested and integers.issuperset(registers)) else _NOT_REUSABLE
        return code


def side_by_side(code):
    """``code`` with each integer among its constants (above the small ones Python keeps)
    made anew, one after the other, so that they lie side by side in memory: an equal int,
    which the code cannot tell from the old one. Best called once every block is compiled,
    when the compiler's own objects are gone.

    >>> code = compile("r[1000] = r[999]", "<block>", "exec")
    >>> side_by_side(code).co_consts == code.co_consts
    True
    """
    constants = [c + 0 if type(c) is int and not -5 <= c <= 256 else c for c in code.co_consts]
    return code.replace(co_consts=tuple(constants))


def _shape(body):
    """(the shape of a block's lines, their register numbers in order of first appearance),
    or (None, None) when the registers cannot be swapped safely."""
    found = _REGISTER.findall(body)
    if not found:
        return None, None
    rank = {}
    for k in found:
        if k not in rank:
            rank[k] = len(rank)
    registers = [int(k) for k in rank]
    lines = _REGISTER.sub("r[]", body)
    if "'" in lines or '"' in lines:            # a string might spell a register
        return None, None
    if any(digit in lines for digit in "0123456789") and not {
            int(d) for d in _DIGITS.findall(lines)}.isdisjoint(registers):
        return None, None
    return (lines, tuple([rank[k] for k in found])), registers
