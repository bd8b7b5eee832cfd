"""Running a computation under a time limit, in a forked worker process.

This module owns :class:`Worker` and :func:`collect`. sympy cannot be interrupted from another
thread (``simplify`` may run for minutes), so verification runs its symbolic work in a child
process made with ``fork``: the child inherits the graph and its expressions without copying or
pickling them, sends each result through a pipe as soon as it has it, and is killed when the
time is up. Whatever arrived by then is kept, so a slow proof still leaves the results found
before it.

Where ``fork`` is not available (Windows, and macOS's default), the work runs in this process
and the time limit is not enforced; :attr:`Worker.bounded` says which happened.

Examples
--------
>>> import itertools, time
>>> from dualad.timelimit import Worker, collect
>>> def slow():
...     for i in itertools.count():
...         yield i
...         time.sleep(0.01)
>>> worker = Worker(slow)
>>> collect([worker], seconds=0.3)
>>> worker.finished, len(worker.messages) > 3
(False, True)
"""

import math
import multiprocessing
import multiprocessing.connection
import os
import time
import traceback

_FORK = "fork" in multiprocessing.get_all_start_methods()
_DONE = "__done__"
_ERROR = "__error__"
#: Seconds past the deadline spent reading what workers had already sent.
_DRAIN = 0.1


class Worker:
    """Iterate ``work()`` in a forked child process, collecting the items it yields.

    Parameters
    ----------
    work : callable
        Called with no arguments in the child; returns an iterable of picklable items.

    Attributes
    ----------
    messages : list
        The items received so far, in order.
    finished : bool
        True once ``work()`` ran to its end.
    error : str or None
        The last line of the child's traceback, if ``work()`` raised.
    bounded : bool
        False when the platform has no ``fork`` and the work ran in this process.

    Examples
    --------
    >>> from dualad.timelimit import Worker, collect
    >>> worker = Worker(lambda: (n * n for n in range(4)))
    >>> collect([worker], seconds=10)
    >>> worker.messages, worker.finished
    ([0, 1, 4, 9], True)
    """

    def __init__(self, work):
        self.work = work
        self.messages = []
        self.finished = False
        self.error = None
        self.bounded = _FORK
        self._process = None
        self._pipe = None
        if _FORK:
            context = multiprocessing.get_context("fork")
            self._pipe, sender = context.Pipe(duplex=False)
            self._process = context.Process(target=_run_child, args=(work, sender), daemon=True)
            self._process.start()
            sender.close()

    def _receive(self):
        """Take one message from the pipe; False when nothing more will come."""
        try:
            message = self._pipe.recv()
        except (EOFError, OSError):
            if not self.finished and self.error is None:
                self.error = "the worker process ended unexpectedly"
            return False
        if isinstance(message, tuple) and message and message[0] == _DONE:
            self.finished = True
            return False
        if isinstance(message, tuple) and message and message[0] == _ERROR:
            self.error = message[1]
            return False
        self.messages.append(message)
        return True

    def _run_here(self):
        try:
            self.messages.extend(self.work())
            self.finished = True
        except Exception as err:  # reported, as a child's error would be
            self.error = f"{type(err).__name__}: {err}"

    def stop(self):
        """Kill the child if it is still running and release the pipe."""
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            # a child that built large expressions takes a while to be torn down: do not wait
            # for that (multiprocessing reaps it later)
            self._process.join(timeout=0.05)
            self._pipe.close()
            self._process = None


def _run_child(work, sender):
    try:
        for item in work():
            sender.send(item)
        sender.send((_DONE,))
    except BaseException as err:  # the parent only needs to know what went wrong
        last = traceback.format_exception_only(type(err), err)[-1].strip()
        try:
            sender.send((_ERROR, last))
        except Exception:
            pass
    finally:
        sender.close()
        os._exit(0)  # skip the interpreter's shutdown: nothing of the parent's to clean up


def collect(workers, seconds):
    """Receive from ``workers`` until each has finished or ``seconds`` have passed, then stop
    the ones still running.

    ``seconds`` may be ``float("inf")`` (wait for every worker to finish) or 0; what a worker
    has already sent is read in any case, however little time is left.

    Examples
    --------
    >>> from dualad.timelimit import Worker, collect
    >>> fast, broken = Worker(lambda: [1, 2]), Worker(lambda: [1 / 0])
    >>> collect([fast, broken], seconds=float("inf"))
    >>> fast.messages, broken.error
    ([1, 2], 'ZeroDivisionError: division by zero')
    """
    deadline = time.monotonic() + seconds
    waiting = {}
    for worker in workers:
        if worker._process is None and not worker.bounded:
            worker._run_here()
        elif worker._process is not None:
            waiting[worker._pipe] = worker
    while waiting:
        now = time.monotonic()
        if now > deadline + _DRAIN:
            break
        remaining = max(0.0, deadline - now)
        # None waits without a limit; 0 only reads what is already there
        ready = multiprocessing.connection.wait(
            list(waiting), timeout=None if math.isinf(remaining) else remaining)
        if not ready:
            break
        for pipe in ready:
            if not waiting[pipe]._receive():
                del waiting[pipe]
    for worker in workers:
        worker.stop()
