"""The elementwise part of a program on big arrays, run block by block.

numpy runs ``a * b + c * d`` one operation at a time over whole arrays. On 10^6 float64 each
temporary is 8 MB, more than the cache holds, so each cheap operation waits on main memory,
and a forward-mode tangent (three passes per product rule) pays for it many times over. A
program's steps that are elementwise over one shape can instead run over blocks of
:data:`BLOCK` elements: a block's temporaries stay in the cache between one step and the
next, as in a loop written in C.

The steps are the same ufuncs on the same numbers, element by element, so every value is the
same bit for bit (the tests check that each op's ufunc gives the same numbers on blocks as on
the whole array). A value the rest of the program reads, such as the array a ``sum`` reduces,
is written into a whole array block by block, and the reduction then runs once over it, in
numpy's own order of additions.

Examples
--------
>>> import numpy as np
>>> import dualad as ad
>>> from dualad.evaluators.record import record
>>> x0 = np.linspace(0.0, 1.0, 2**17)
>>> tape, (x,), y = record(lambda x: ad.sum(x * x * x + x * 2.0 + 1.0), [x0])
>>> program = tape.program([y])
>>> registers = [x0] + [None] * (program.size - 1)
>>> for r, value in program.literals.items():
...     registers[r] = value
>>> part = elementwise_part(program, registers)
>>> len(part.steps), len(part.kept)        # five steps in blocks; one array kept, for the sum
(5, 1)
>>> bool(program.run([x0])[0] == np.sum(x0 * x0 * x0 + x0 * 2.0 + 1.0))
True
"""

import collections
import functools

import numpy as np

from ..primitives import Primitive
from ..release import held_by_list_alone, keep_spare, spare_kind, take_spare

#: Elements of each block: 256 KiB of float64. A block's live temporaries (a few, as the
#: steps write into those read for the last time) stay in the cache, and a program on 10^6
#: elements runs its steps 31 times, not 123: each block costs a Python call per step.
#: (Measured on a forward-mode sweep of 12 steps on 10^6 float64: 16.2 ms in blocks of 2^13,
#: 15.8 ms in blocks of 2^14, 15.3 ms in blocks of 2^15 and 2^16; its ``cos`` alone 11.6 ms.)
BLOCK = 2**15
#: The fewest steps worth running in blocks (each block costs a Python call per step).
MIN_STEPS = 4

_FLOAT64 = np.dtype(np.float64)


def plain_ufunc(function, refs, params):
    """True for a step numpy runs as one elementwise ufunc of its one or two arguments."""
    return (isinstance(function, Primitive) and not params and function.ufunc is not None
            and function.nin == len(refs) <= 2)


def _number(value):
    """True for a value read whole by every block: a Python or numpy number, or a 0-d array
    (such as the exponent ``n - 1`` of ``power``'s partial, folded to a constant)."""
    if type(value) in (float, int):
        return True
    return (isinstance(value, (np.floating, np.integer, np.ndarray)) and np.ndim(value) == 0
            and value.dtype.kind in "fiu" and value.dtype.itemsize <= 8)


class ElementwisePart:
    """Steps of a program that run block by block, and the steps run after them.

    ``steps``: the indices of the steps in blocks, in program order; ``sliced``: the
    registers (inputs, literals) cut into blocks; ``numbers``: the registers that are Python or
    numpy numbers, read whole; ``kept``: the registers the blocks write into whole arrays (read
    after them, or outputs); ``rest``: the indices of the other steps, run afterwards;
    ``folded``: for each array only a whole ``sum`` reads, summed block by block instead of
    kept, its register, the sum's step and the sum's register.
    """

    def __init__(self, program, shape, steps, sliced, numbers, kept, rest, fold_sums=False):
        self.shape = shape
        self.steps, self.sliced, self.numbers = steps, sliced, numbers
        self.kept, self.rest = kept, rest
        functions, columns = program.functions, list(program.steps)
        made = {columns[k][3] for k in steps}
        self._temporaries = tuple(made - set(kept))
        # a step whose operand is a block temporary read for the last time writes into it,
        # as numpy does with the temporaries of ``a * b + c``: fewer arrays in the cache
        temporaries, last = set(self._temporaries), {}
        for k in steps:
            for r in columns[k][1]:
                last[r] = k
        self._plan = []
        for k in steps:
            _, refs, _, out = columns[k]
            into = next((r for r in refs if r in temporaries and last[r] == k), -1)
            self._plan.append((functions[k].numpy, refs[0], refs[1] if len(refs) == 2 else -1,
                               out, into))
        outputs = set(program.outputs)
        runners = program.runners(False)
        # a kept array that only a sum of all its elements reads is not kept: each block is
        # summed, and the sums added in numpy's own pairwise order (see pairwise_parts)
        self.folded = _folded_sums(columns, kept, rest, outputs) if fold_sums else []
        if self.folded:
            self.kept = kept = [r for r in kept if r not in {f[0] for f in self.folded}]
            self.rest = rest = [k for k in rest if k not in {f[1] for f in self.folded}]
        self._sums = [runners[k] for _, k, _ in self.folded]
        # the kept arrays the rest of the program reads and lets go of (not outputs) are
        # written into spare arrays, and given back to them after the run: fresh pages from
        # the system cost more than the pass that fills them (see dualad.release)
        self._spare_for = [r not in outputs for r in kept]
        dying = program.last_reads(rest)
        self._rest = [(runners[k], columns[k][1], columns[k][3], dying.get(k, ())) for k in rest]

    def run(self, registers):
        """Run the part in blocks, then the rest of the program, on ``registers``."""
        plan, sliced = self._plan, self.sliced

        def block(*arrays, in_place=True):
            for r, a in zip(sliced, arrays):
                registers[r] = a
            for function, a, b, out, into in plan:
                if into < 0 or not in_place:
                    registers[out] = (function(registers[a]) if b < 0
                                      else function(registers[a], registers[b]))
                else:
                    registers[out] = (function(registers[a], out=registers[into]) if b < 0
                                      else function(registers[a], registers[b],
                                                    out=registers[into]))
            return [registers[r] for r in results]

        results = self.kept + [r for r, _, _ in self.folded]
        whole = [registers[r] for r in sliced]
        into = [take_spare(self.shape) if wanted else None for wanted in self._spare_for]
        kept = in_blocks(block, self.shape, whole, [registers[r] for r in self.numbers], into,
                         at_once=lambda *arrays: block(*arrays, in_place=False),
                         sums=self._sums)
        for r, v in zip(sliced, whole):
            registers[r] = v
        for r in self._temporaries:
            registers[r] = None
        for k, r in enumerate(self.kept):
            registers[r] = kept[k]
        for k, (summed, _, out) in enumerate(self.folded):
            registers[summed] = None            # its last block's array
            registers[out] = kept[len(self.kept) + k]
        into = [kept[k] if wanted else None for k, wanted in enumerate(self._spare_for)]
        del kept
        for function, refs, out, dead in self._rest:
            registers[out] = function(*[registers[r] for r in refs])
            for r in dead:
                registers[r] = None
        for k in range(len(into)):
            # back to the spares, unless something still holds it (a view an output is)
            if spare_kind(into[k]) and held_by_list_alone(into, k):
                keep_spare(into[k])


def _folded_sums(columns, kept, rest, outputs):
    """(register, step, sum's register) for each kept register of a part that no step but
    one ``sum`` of all its elements reads (not an output), where numpy's order of additions
    is reproduced here (:func:`pairwise_parts`)."""
    reads = collections.Counter(r for _, refs, _, _ in columns for r in refs)
    found = []
    for k in rest:
        function, refs, params, out = columns[k]
        if (isinstance(function, Primitive) and function.name == "sum" and len(refs) == 1
                and refs[0] in kept and refs[0] not in outputs and reads[refs[0]] == 1
                and (params or {}).get("axis") is None and not (params or {}).get("keepdims")):
            found.append((refs[0], k, out))
    if found and not _pairwise_reproduced():
        return []
    return found


@functools.lru_cache(maxsize=64)
def pairwise_parts(size):
    """numpy's pairwise summation of ``size`` contiguous float64 numbers, cut where its halves
    are of at most :data:`BLOCK` elements: the parts' lengths in order, and the order to add
    their sums in (a length: the next part's sum; ``None``: the last two sums added). numpy
    halves ``n`` numbers at ``n // 2`` rounded down to a multiple of 8 and adds the halves'
    sums, so the sum of each part (numpy's own, over it) added in this order is numpy's sum
    of the whole, bit for bit.

    Examples
    --------
    >>> lengths, order = pairwise_parts(3 * BLOCK + 40)
    >>> lengths
    [24584, 24584, 24584, 24592]
    >>> x = np.random.default_rng(0).normal(size=3 * BLOCK + 40) * 1e10
    >>> sums = [np.add.reduce(p) for p in np.split(x, np.cumsum(lengths)[:-1])]
    >>> bool(added_in_parts(sums, order) == np.add.reduce(x))
    True
    """
    lengths, order, stack = [], [], [(size, False)]
    while stack:                    # iterative, in numpy's (recursive) order
        n, halved = stack.pop()
        if halved:
            order.append(None)
        elif n <= BLOCK:
            lengths.append(n)
            order.append(n)
        else:
            half = n // 2
            half -= half % 8
            stack += [(n, True), (n - half, False), (half, False)]
    return lengths, order


def added_in_parts(sums, order):
    """The parts' ``sums`` added in ``order`` (from :func:`pairwise_parts`)."""
    sums = iter(sums)
    stack = []
    for step in order:
        if step is None:
            last = stack.pop()
            stack[-1] = stack[-1] + last
        else:
            stack.append(next(sums))
    return stack[0]


@functools.cache
def _pairwise_reproduced():
    """True when numpy's sums are the sums of :func:`pairwise_parts` added in order, on a
    few arrays whose numbers differ wildly in size (the order of additions shows); checked
    once, so that another numpy's summation turns the folding off instead of changing a bit."""
    rng = np.random.default_rng(0)
    for size in (BLOCK + 1, 3 * BLOCK + 37, 21 * BLOCK + 13):
        x = rng.normal(size=size) * 10.0 ** rng.integers(-12, 12, size=size)
        lengths, order = pairwise_parts(size)
        sums = [np.add.reduce(part) for part in np.split(x, np.cumsum(lengths)[:-1])]
        if added_in_parts(sums, order) != np.add.reduce(x):
            return False
    return True


def in_blocks(function, shape, sliced, numbers, into=(), at_once=None, sums=()):
    """The results of ``function(*sliced, *numbers)`` (a sequence of arrays of ``shape``),
    computed block by block: ``function`` is called on :data:`BLOCK` elements of each array
    in ``sliced`` at a time, and the numbers whole. Result ``k`` is written into
    ``into[k]`` where that is a C-ordered array of ``shape`` and the result's dtype, else
    into a new array. Where an array is not a C-contiguous float64 array of ``shape`` or a
    number is not a number (the arguments are not of the kinds planned for), ``at_once``
    (default ``function``) runs once on the whole arrays: numpy lays the results of a
    Fortran-ordered array out in its order, and a ``sum`` of them adds in that order.

    With ``sums`` (functions, one for each of the last results), those results are not
    kept: each is summed by its function, block by block over the parts of
    :func:`pairwise_parts`, and the sums added in its order (numpy's sum of the whole).

    Examples
    --------
    >>> import numpy as np
    >>> x = np.arange(20000.0)
    >>> (y,) = in_blocks(lambda x, c: (x * x + c,), x.shape, [x], [1.0])
    >>> bool(np.array_equal(y, x * x + 1.0))
    True
    """
    at_once = function if at_once is None else at_once
    planned = all(type(a) is np.ndarray and a.shape == shape and a.dtype is _FLOAT64
                  and a.flags.c_contiguous for a in sliced)
    if not (planned and all(_number(v) for v in numbers)):
        results = list(at_once(*sliced, *numbers))
        if sums:
            results[-len(sums):] = [add(r) for add, r in zip(sums, results[-len(sums):])]
        return tuple(results)
    flats = [a.reshape(-1) for a in sliced]
    size = flats[0].shape[0] if flats else int(np.prod(shape))
    if sums:
        lengths, order = pairwise_parts(size)
        starts = np.cumsum([0] + lengths[:-1]).tolist()
        stops = [start + n for start, n in zip(starts, lengths)]
    else:
        starts = range(0, size, BLOCK)
        stops = [start + BLOCK for start in starts]
    n_kept = None
    parts = [[] for _ in sums]
    for start, stop in zip(starts, stops):
        results = function(*[flat[start:stop] for flat in flats], *numbers)
        if n_kept is None:
            n_kept = len(results) - len(sums)
            kept = [_whole(into[k] if k < len(into) else None, shape, np.result_type(r))
                    for k, r in enumerate(results[:n_kept])]
            flat_kept = [array.reshape(-1) for array in kept]
        for array, r in zip(flat_kept, results):
            array[start:stop] = r
        for k, add in enumerate(sums):
            parts[k].append(add(results[n_kept + k]))
    return tuple(kept) + tuple(added_in_parts(p, order) for p in parts)


def _whole(array, shape, dtype):
    """``array`` to write a result of ``shape`` and ``dtype`` into, where it fits; else a new
    array."""
    if (array is not None and array.shape == shape and array.dtype == dtype
            and array.flags.c_contiguous and array.flags.writeable):
        return array
    return np.empty(shape, dtype)


def elementwise_part(program, registers, fold_sums=False):
    """The steps of ``program`` (an array program with recorded ``layouts``) that are one
    ufunc each over float64 arrays of its most common big shape, reading only its inputs or
    literals of that shape, numbers, or each other; or None where fewer than
    :data:`MIN_STEPS` would run in blocks, or fewer than two of their values are temporaries.
    ``registers`` holds this run's inputs and literals (they say which are arrays). With
    ``fold_sums``, a kept array only a whole ``sum`` reads is summed block by block instead
    (``ElementwisePart.folded``)."""
    layouts = program.layouts
    shapes = collections.Counter(shape for shape, dtype in layouts.values()
                                 if dtype == _FLOAT64)
    if not shapes:
        return None
    shape = shapes.most_common(1)[0][0]
    wanted = (shape, _FLOAT64)
    made_anywhere = set(program.outs)
    inside, sliced, numbers = set(), set(), set()
    steps, rest = [], []
    columns = list(program.steps)
    for k, (function, refs, params, out) in enumerate(columns):
        ok = plain_ufunc(function, refs, params) and layouts.get(out) == wanted
        reads_sliced, reads_numbers = [], []
        for r in refs if ok else ():
            if r in inside:
                continue
            if r in made_anywhere:          # made by a step that does not run in blocks
                ok = False
                break
            v = registers[r]
            if type(v) is np.ndarray and v.shape == shape and v.dtype is _FLOAT64:
                reads_sliced.append(r)
            elif _number(v):
                reads_numbers.append(r)
            else:
                ok = False
                break
        if ok:
            steps.append(k)
            inside.add(out)
            sliced.update(reads_sliced)
            numbers.update(reads_numbers)
        else:
            rest.append(k)
    read_after = {r for k in rest for r in columns[k][1]}
    kept = [columns[k][3] for k in steps
            if columns[k][3] in read_after or columns[k][3] in program.outputs]
    if len(steps) < MIN_STEPS or len(steps) - len(kept) < 2:
        return None
    return ElementwisePart(program, shape, steps, tuple(sliced),
                           tuple(numbers - set(program.literals)), kept, rest, fold_sums)
