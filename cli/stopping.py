"""Stopping a command: SIGTERM is handled like Ctrl-C.

``kill PID`` (SIGTERM, what a scheduler or a closing terminal sends) raises
:class:`Terminated`, a ``KeyboardInterrupt``, in the main thread, so the same
clean-up runs as after Ctrl-C: worker processes are ended, temporary folders
removed, a sweep keeps what finished.  The exit status is 143 (128 + SIGTERM).
"""

from __future__ import annotations

import contextlib
import signal
import threading


class Terminated(KeyboardInterrupt):
    """The process received SIGTERM."""


EXIT_TERMINATED = 143
EXIT_INTERRUPTED = 130


def _raise(signum, frame):
    raise Terminated()


@contextlib.contextmanager
def sigterm_as_interrupt():
    """While inside, SIGTERM raises :class:`Terminated` (main thread only; elsewhere a no-op)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous if previous is not None else signal.SIG_DFL)


def exit_status(exc: KeyboardInterrupt) -> int:
    return EXIT_TERMINATED if isinstance(exc, Terminated) else EXIT_INTERRUPTED
