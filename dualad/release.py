"""Letting a traced call's intermediate arrays go as soon as nothing will read them.

The transforms trace the user's function at every call, and a trace keeps every node's value:
the graph owns its nodes. On big arrays that costs time as well as memory. In
``sum(sin(x) * exp(-x*x) + x*x*x)`` on 10^6 float64 the trace keeps eight arrays of 8 MB where
numpy alone keeps two or three; the working set outgrows the cache, and every later pass waits
on main memory. The derivative sweep that follows reads few of them: forward mode reads
``sin(x)``, ``exp(-x*x)`` and ``x*x``, never ``-x*x`` or the operand of the ``sum``.

This module owns letting those go, for the transforms' own traces only (never for
:func:`dualad.trace`, whose graph the user keeps and reads). A trace of a function whose
structure is remembered (:mod:`dualad.structure`) numbers its big array nodes in the order
they are made. The previous call's trace says, by number, which of them no program recorded
for the transform's mode (forward or reverse) reads, and how many consumers each has (the
plan, :func:`plan_of`; one per mode). Such a node's value is let
go once all its consumers are built, and only when nothing else holds the node: its reference
count is then its consumers' alone, so no variable, container or attribute of the user's
function can reach it. A node the function keeps, a guard's node and an output keep their
values. This is the reuse numpy makes of the temporaries in ``a * b + c``.

Nothing is lost. :func:`restore` computes a released value again from its operands, the same
op on the same numbers, so bit for bit the same. A graph lists the positions it released
(``Graph.released``). The fast evaluators restore them before anything other than the replay
of a program that does not read them. A trace whose structure turns out to differ is restored
before it is sorted.

One thing can see a released value: the user's function itself, walking from a node it holds
to one it never held (``z.children[0].value``) while it runs, reads ``None`` there. Building
on such a node is safe: the node builder computes it again (:func:`recomputed`).

A released array that nothing at all holds (its own reference count is that of the one local
that took it from the node, and no weak reference or view of it exists) is a spare. The spares
are kept for the next traces (:data:`SPARE_ARRAYS`, at most :data:`SPARE_BYTES` in all), where
a float64 ufunc node of arrays of that shape is computed into one (``out=``,
:meth:`Releasing.computed_in_spare`): memory that is already there, instead of fresh pages
from the system, which cost about as much as the pass that fills them. The replayed programs
take and give back the whole arrays their blocks fill from the same spares, checking with
:func:`held_by_list_alone` that nothing holds them (:mod:`dualad.evaluators.blocks`).

Examples
--------
>>> import numpy as np
>>> from dualad.release import Releasing, RELEASE_SIZE
>>> import dualad as ad
>>> x = ad.Var(np.ones(RELEASE_SIZE))
>>> state = Releasing({0: 1})            # the first big node: no program reads it; one use
>>> with state.active():
...     y = ad.exp(x) * 2.0              # exp(x) is a temporary: let go once the product exists
...     z = ad.sum(y)
...     state.finish()
>>> [entry[0].value for entry in state.released]
[None]
>>> bool(np.isclose(z.value, 2 * np.e * RELEASE_SIZE))
True
"""

import contextlib
import sys
import threading
import weakref

import numpy as np

#: Arrays of at least this many elements (512 KiB of float64) are watched and may be let go:
#: below it a trace's values fit in the cache, and watching would cost more than it saves.
RELEASE_SIZE = 2**16

#: At most this many spare arrays of each shape are kept, and at most this many bytes of
#: them in all, for every function together (a notebook of many functions on big arrays does
#: not keep memory for each).
SPARES = 8
SPARE_BYTES = 2**26
#: The spare arrays: shape -> arrays nothing holds (see :func:`keep_spare`).
SPARE_ARRAYS = {}

#: One entry per trace that releases, in any thread: what the node builder looks at first.
ACTIVE = []
_LOCAL = threading.local()


def current():
    """The :class:`Releasing` of the trace running on this thread, or ``None``."""
    return getattr(_LOCAL, "state", None)


def begin(state):
    """Release by ``state`` as this thread builds nodes, until :func:`end`."""
    ACTIVE.append(state)
    _LOCAL.state = state


def end(state):
    """Stop releasing by ``state`` (begun by :func:`begin` on this thread)."""
    ACTIVE.remove(state)
    _LOCAL.state = None


def switch(state):
    """Make ``state`` (or ``None``) this thread's for a while: a trace inside the user's
    function releases nothing, and its nodes' uses are not counted."""
    _LOCAL.state = state


def _extra_references(entries):
    """For each entry, the node's reference count less its uses counted so far."""
    return [sys.getrefcount(entry[0]) - entry[1] for entry in entries]


#: What :func:`_extra_references` gives for a node that only its entry and its consumers hold
#: (measured, so that it holds on any interpreter that counts references this way).
_UNHELD = _extra_references([[object(), 0]])[0]


def _references(value):
    return sys.getrefcount(value)


def _references_of_a_local():
    value = np.empty(1)
    return _references(value)


#: What :func:`_references` gives for an array held in one local variable and nowhere else.
_UNHELD_ARRAY = _references_of_a_local()


def _references_in(values, k):
    return sys.getrefcount(values[k])


#: What :func:`_references_in` gives for an item that only its list holds.
_LIST_ALONE = _references_in([np.empty(1)], 0)


def held_by_list_alone(values, k):
    """True when nothing but the list ``values`` holds ``values[k]`` (no variable, no other
    container, no view of it), so that it may be written over.

    Examples
    --------
    >>> import numpy as np
    >>> arrays = [np.zeros(3)]
    >>> held_by_list_alone(arrays, 0)
    True
    >>> view = arrays[0][1:]
    >>> held_by_list_alone(arrays, 0)
    False
    """
    return _references_in(values, k) == _LIST_ALONE


_FLOAT64 = np.dtype(np.float64)
#: ufunc -> the dtype it gives on float64 arrays
_FLOAT_UFUNCS = {}


def spare_kind(value):
    """True for an array of the kind kept as a spare: a C-ordered, writeable float64 array
    that owns its memory and has no weak reference. The caller checks, by reference counts,
    that nothing else holds it.

    Examples
    --------
    >>> import numpy as np
    >>> spare_kind(np.zeros(4)), spare_kind(np.zeros(4)[1:]), spare_kind(np.zeros(4, int))
    (True, False, False)
    """
    return (type(value) is np.ndarray and value.dtype is _FLOAT64 and value.base is None
            and value.flags.c_contiguous and value.flags.writeable
            and not weakref.getweakrefcount(value))


class Releasing:
    """The big array nodes of one trace, and which of them are let go.

    ``plan`` maps a node's number (big array op nodes, counted in the order they are made) to
    the number of uses its position has; a node in the plan is let go when that many
    consumers are built and nothing else holds it. With an empty plan the trace only numbers
    its nodes, for :func:`plan_of`. ``spares`` (default :data:`SPARE_ARRAYS`) is the pool the
    let-go arrays nothing holds go to, and new values are written into.

    Each entry is ``[node, uses so far, uses planned, number]``.
    """

    __slots__ = ("plan", "mode", "made", "waiting", "ready", "held", "released", "spares")

    def __init__(self, plan, mode="forward", spares=None):
        self.plan = plan
        self.mode = mode        # whose programs' reads the plan keeps
        self.spares = SPARE_ARRAYS if spares is None else spares     # shape -> arrays
        self.made = []          # id of each big array op node, in the order made
        self.waiting = {}       # id -> entry, for nodes in the plan with consumers to come
        self.ready = []         # entries whose consumers are all built
        self.held = []          # entries that something else held when they were ready
        self.released = []      # entries let go

    @contextlib.contextmanager
    def active(self):
        """Release as this thread builds nodes while the body runs."""
        begin(self)
        try:
            yield self
        finally:
            end(self)

    def built(self, node):
        """``node`` has just been built: count it as a use of its operands, and number it
        if its value is a big array."""
        waiting = self.waiting
        if waiting:
            for child in node.children:
                entry = waiting.get(id(child))
                if entry is not None:
                    entry[1] += 1
                    if entry[1] == entry[2]:
                        del waiting[id(child)]
                        self.ready.append(entry)
        value = node.value
        if type(value) is np.ndarray and value.size >= RELEASE_SIZE:
            number = len(self.made)
            self.made.append(id(node))
            uses = self.plan.get(number)
            if uses is not None:
                waiting[id(node)] = [node, 0, uses, number]

    def let_go(self):
        """Let go of the values of the ready nodes nothing else holds (before a node is built:
        its new array may then take the memory, still in the cache)."""
        ready, self.ready = self.ready, []
        for entry, extra in zip(ready, _extra_references(ready)):
            if extra == _UNHELD:
                node = entry[0]
                value = node.value
                node.value = None
                self.released.append(entry)
                if spare_kind(value) and _references(value) == _UNHELD_ARRAY:
                    keep_spare(value, self.spares)
            else:
                self.held.append(entry)

    def computed_in_spare(self, prim, operands):
        """``prim`` on ``operands`` (one or two, no parameters) written into a spare array,
        or ``None`` where there is none of their shape or ``prim`` is not a float64 ufunc of
        C-ordered float64 arrays (and Python floats). The same ufunc on the same numbers,
        so the same bits as a new array; an array that was not the trace's to reuse
        (let go, and held by nothing at all) is never a spare."""
        shape = None
        for value in operands:
            if type(value) is np.ndarray:
                if (value.dtype is not _FLOAT64 or not value.flags.c_contiguous
                        or (shape is not None and value.shape != shape)):
                    return None
                shape = value.shape
            elif type(value) is not float:
                return None
        if not self.spares.get(shape) or not _float_ufunc(prim) or len(operands) != prim.nin:
            return None
        out = take_spare(shape, self.spares)
        return None if out is None else prim.numpy(*operands, out=out)

    def finish(self):
        """The function has returned: let go of what it held until then."""
        self.ready += self.held
        self.held = []
        self.let_go()

    def restore(self):
        """Every released value computed again (the trace is not the structure's after all)."""
        restore(entry[0] for entry in sorted(self.released, key=lambda entry: entry[3]))
        self.released = []

    def settle(self, graph, structure):
        """The trace is ``graph``, of ``structure``: list the positions released in
        ``graph.released``, and make the plan for the next trace where there is none."""
        if not self.released and self.plan:
            return
        position = {id(node): p for p, node in enumerate(graph.nodes)}
        graph.released = tuple(sorted(position[id(entry[0])] for entry in self.released
                                      if id(entry[0]) in position))
        if not self.plan:
            plan_of(structure, self.made, position, self.mode)


def keep_spare(array, spares=None):
    """Keep ``array`` (a C-ordered float64 array nothing else holds, which owns its memory)
    as a spare in ``spares`` (default :data:`SPARE_ARRAYS`), where there is room: at most
    :data:`SPARES` of its shape and :data:`SPARE_BYTES` in all.

    Examples
    --------
    >>> import numpy as np
    >>> pool = {}
    >>> keep_spare(np.empty(4), pool); keep_spare(np.empty(2**27), pool)   # 1 GiB: no room
    >>> {shape: len(arrays) for shape, arrays in pool.items()}
    {(4,): 1}
    >>> take_spare((4,), pool).shape, take_spare((4,), pool)
    ((4,), None)
    """
    spares = SPARE_ARRAYS if spares is None else spares
    held = sum(a.nbytes for arrays in list(spares.values()) for a in arrays)
    if held + array.nbytes > SPARE_BYTES:
        return
    arrays = spares.setdefault(array.shape, [])
    if len(arrays) < SPARES:
        arrays.append(array)


#: The most freed memory :func:`keep_freed_memory` asks the C library to keep, in bytes:
#: glibc's own ceiling for the threshold it raises (32 MiB on 64-bit systems).
KEPT_BYTES = 2**25
_kept = [0]         # the most asked for so far in this process


def keep_freed_memory(nbytes):
    """Let the C library keep about ``nbytes`` of memory that numpy frees, for the next
    arrays, instead of giving it back to the system and taking fresh pages again.

    glibc gives an allocation of at least its ``mmap`` threshold (128 KiB at first) pages of
    its own, and gives the free top of its heap back to the system once that is more than
    twice the threshold. When it frees a block it had mapped, it raises the threshold to that
    block's size (``mallopt(3)``, "dynamic mmap threshold"). So a program on arrays of a few
    hundred KiB, in a process that has not yet freed a bigger array, grows the heap at every
    call and gives it back at the end; the next call then faults every page of its arrays in
    again, about 2 us each on a virtual host. On the 784-128-10 MLP step that was 420 faults
    and 0.9 ms of a 3.1 ms call. One block of ``nbytes`` allocated and freed (and never
    touched) raises the threshold as any big temporary of the user's would, once per process
    and size; with another C library it is one allocation and nothing more. At most
    :data:`KEPT_BYTES`.

    Examples
    --------
    >>> keep_freed_memory(2**20)       # afterwards glibc keeps up to 2 MiB of freed heap
    """
    nbytes = min(int(nbytes), KEPT_BYTES)
    if nbytes > _kept[0]:
        _kept[0] = nbytes
        np.empty(nbytes, dtype=np.uint8)


def take_spare(shape, spares=None):
    """A spare array of ``shape`` from ``spares`` (default :data:`SPARE_ARRAYS`), or
    ``None``; it is the caller's alone."""
    arrays = (SPARE_ARRAYS if spares is None else spares).get(shape)
    try:
        return arrays.pop() if arrays else None
    except IndexError:          # another thread took the last one
        return None


def _float_ufunc(prim):
    """True when ``prim`` computes with one elementwise numpy ufunc (``Primitive.ufunc``: not
    a comparison, whose booleans an ``out=`` array of floats would take) that gives float64
    on float64."""
    ufunc = getattr(prim, "ufunc", None)        # a seed program's op may be any callable
    if ufunc is None:
        return False
    gives = _FLOAT_UFUNCS.get(ufunc)
    if gives is None:
        try:
            with np.errstate(all="ignore"):
                gives = ufunc(*[np.full(1, 0.5)] * ufunc.nin).dtype
        except (TypeError, ValueError):     # no float64 loop (ldexp wants an integer)
            gives = np.dtype(object)
        _FLOAT_UFUNCS[ufunc] = gives
    return gives == _FLOAT64


def restore(nodes):
    """Compute the value of each of ``nodes`` again from its operands (given in an order where
    each comes after the nodes it reads: positions, or the order they were made).

    Examples
    --------
    >>> import dualad as ad
    >>> y = ad.sin(ad.Var(1.0))
    >>> kept, y.value = y.value, None
    >>> restore([y]); y.value == kept
    True
    """
    for node in nodes:
        node.value = node.op.evaluate(*[child.value for child in node.children],
                                      **node.params)


def recomputed(node):
    """``node``'s value: as it is, or computed again (with those of its operands) where a
    trace let it go; ``None`` where a leaf below it has no value. What the node builder
    falls back on when an operand has no value while a trace releases (reached through a
    consumer's ``children``, the one way to a node nothing held).

    Examples
    --------
    >>> import dualad as ad
    >>> x = ad.Var(2.0)
    >>> y = ad.exp(x * x)
    >>> y.children[0].value = y.value = None
    >>> recomputed(y) == ad.exp(4.0)
    True
    """
    if node.value is not None or node.op is None:
        return node.value
    stack = [node]
    while stack:
        top = stack[-1]
        missing = [c for c in top.children if c.value is None and c.op is not None]
        if missing:
            stack.extend(missing)
            continue
        stack.pop()
        if top.value is None:
            if any(c.value is None for c in top.children):
                return None                 # a leaf with no value (a graph built before its
            restore([top])                  # leaves have values)
    return node.value


# ---- which positions a structure's programs read ----

_READS = "reads of the graph's values"


def note_reads(programs, program, mode):
    """Add the graph positions ``program`` (of ``mode``, "forward" or "reverse") reads (its
    registers below the graph's size are the graph's values, position by position) to those
    of the programs of that mode in ``programs``."""
    key = (_READS, mode)
    programs[key] = programs.get(key, frozenset()) | program.reads


def plan_of(structure, made, position, mode):
    """The plan for the next trace of ``structure`` for ``mode``: for each big node of this
    trace (``made``, ids by number; ``position``, positions by id) that no recorded program
    of that mode reads and that is not an output or a guard, its number and its uses;
    ``None`` when there is nothing to let go. Kept in ``structure.cache`` until a program of
    that mode reads more."""
    programs = structure.cache.get("programs") or {}
    reads = programs.get((_READS, mode))
    if reads is None:
        return None
    needed = set(reads)
    needed.update(structure.output_positions)
    needed.update(pos for pos, _ in structure.guards)
    uses = [0] * structure.size
    for args in structure.op_args:
        for a in args:
            uses[a] += 1
    plan = {}
    for number, key in enumerate(made):
        pos = position.get(key)
        if pos is not None and pos not in needed and uses[pos]:
            plan[number] = uses[pos]
    structure.cache[("release", mode)] = (reads, plan or None)
    return plan or None


def plan_for(structure, mode):
    """What the next trace of ``structure`` for ``mode`` does: ``None`` (nothing to let go,
    or no program of that mode recorded yet), or a plan (maybe empty: number the nodes, so
    that a plan can be made)."""
    programs = structure.cache.get("programs")
    reads = None if programs is None else programs.get((_READS, mode))
    if reads is None:
        return None
    known = structure.cache.get(("release", mode))
    if known is None or known[0] is not reads:
        return {}
    return known[1]
