"""Where replications run: in this process, in local processes, or on a Dask cluster.

One interface for all three.  A :class:`Task` is a picklable function with its
arguments and the labels an error report needs (scenario, seed, replication);
:meth:`Executor.map_unordered` runs tasks and yields each outcome as it
finishes — a :class:`Done` with the function's value, or a :class:`Failed`
with the exception text.  A failing task never stops the others.

* :class:`SerialExecutor` — in this process, in order (``workers = 1``).
* :class:`ProcessExecutor` — ``concurrent.futures`` processes on this machine.
  At most one task per worker is in flight, so an interruption loses at most
  the replications being run.  A worker that dies (killed, out of memory) breaks
  the pool: the pool is restarted and the tasks that were running are retried
  one at a time, so the task that kills its worker is found and reported
  (after it has done so twice) while the innocent ones complete.
* :class:`DaskExecutor` — ``dask.distributed`` on a cluster whose scheduler runs
  at an address (``dask scheduler`` and ``dask worker ADDRESS --nthreads 1`` on
  each machine; the workers need this package installed).  Plain ``tcp://`` is
  unauthenticated: use ``tls://`` with certificates (:func:`load_security`) on
  any network you do not fully control.  Dask reschedules the
  tasks of a lost worker itself and reports a task that kills workers
  repeatedly as ``KilledWorker``.  Large arguments wrapped in :class:`Shared`
  are sent to the cluster once, not once per task.

Results never depend on the executor: a replication's random numbers come from
its scenario's seed and its replication number only (:mod:`sim.streams`).
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import re
import signal
import sys
import threading
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable, Iterable, Iterator

from enforcement_grid.sim.errors import ScenarioError

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class Shared:
    """An argument shared by many tasks (a scenario): sent to a cluster once, and pickled once for
    all the tasks sent to local workers (each task's worker still unpickles it)."""

    value: Any
    _pickled: list = field(default_factory=list, repr=False)  # [bytes] once pickled

    def __reduce__(self):
        if not self._pickled:
            self._pickled.append(pickle.dumps(self.value, protocol=pickle.HIGHEST_PROTOCOL))
        return _shared_from, (self._pickled[0],)


def _shared_from(pickled: bytes) -> Shared:
    return Shared(pickle.loads(pickled))


@dataclass(frozen=True)
class Task:
    """A picklable function call, labelled for error reports."""

    key: Hashable
    fn: Callable
    args: tuple
    scenario: str = ""
    seed: int | None = None
    replication: int | None = None


@dataclass(frozen=True)
class Done:
    task: Task
    value: Any


@dataclass(frozen=True)
class Failed:
    """A task that raised: which scenario, seed and replication, and the error."""

    task: Task
    error: str  # "ExceptionType: message"
    where: str = ""  # the innermost frame of the traceback, "file:line in function"
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    @property
    def scenario(self) -> str:
        return self.task.scenario

    @property
    def seed(self) -> int | None:
        return self.task.seed

    @property
    def replication(self) -> int | None:
        return self.task.replication


class ExecutorLost(RuntimeError):
    """The executor itself failed (a Dask scheduler went away): no task is to blame."""


def _unwrap(args: tuple) -> tuple:
    return tuple(a.value if isinstance(a, Shared) else a for a in args)


def _call(fn: Callable, args: tuple):
    """A task's call in a worker: its :class:`Shared` arguments come pickled once and are unwrapped here."""
    return fn(*_unwrap(args))


_FRAME = re.compile(r'File "([^"]+)", line (\d+), in (\S+)')


def _where(exc: BaseException) -> str:
    """The innermost frame of an exception's traceback, local or remote, following its causes
    (SimPy re-raises a process's exception as a copy whose cause is the original)."""
    chain, seen = [], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        chain.append(exc)
        exc = exc.__cause__
    for e in reversed(chain):  # the innermost cause first
        cause = e.__cause__
        text = str(cause) if cause is not None and type(cause).__name__ == "_RemoteTraceback" else ""
        frames = _FRAME.findall(text)
        if not frames and e.__traceback__ is not None:
            frames = [(f.filename, f.lineno, f.name) for f in traceback.extract_tb(e.__traceback__)]
        frames = [f for f in frames if not _plumbing(f[0])]
        if frames:
            file, line, fn = frames[-1]
            return f"{os.path.basename(file)}:{line} in {fn}"
    return ""


def _plumbing(file: str) -> bool:
    """Frames of the executors themselves, not of the task."""
    parts = (f"concurrent{os.sep}futures", f"{os.sep}dask{os.sep}", f"{os.sep}distributed{os.sep}",
             f"{os.sep}simpy{os.sep}")
    return file == __file__ or any(p in file for p in parts)


def failure(task: Task, exc: BaseException) -> Failed:
    text = str(exc).strip().replace("\n", " | ")
    return Failed(task, f"{type(exc).__name__}: {text}" if text else type(exc).__name__, _where(exc), exc)


class Executor:
    """Runs tasks, yields outcomes as they finish; a context manager that cleans up after itself."""

    workers: int = 1

    def map_unordered(self, tasks: Iterable[Task]) -> Iterator[Done | Failed]:
        raise NotImplementedError

    def close(self) -> None:
        """Stop: cancel what has not run, end worker processes this executor started."""

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# The cyclic garbage collector's thresholds while replications run (``gc.set_threshold``).  A
# replication allocates hundreds of thousands of short-lived containers (SimPy events, jobs,
# records), nearly all freed by reference counting, and CPython's defaults (700, 10, 10) then
# collect thousands of times a replication and traverse the whole heap — every scenario of a
# sweep, a replay baseline — every few replications.  Measured on 60 one-town years of a sweep
# in one process: 2.4 s of collection → 0.6 s, peak memory 357 → 387 MiB (issue 15).
GC_THRESHOLDS = (50_000, 20, 20)


@contextmanager
def replication_gc():
    """:data:`GC_THRESHOLDS` inside the block, the process's own thresholds again after it."""
    old = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*old)


class SerialExecutor(Executor):
    """Every task in this process, in the order given (with :data:`GC_THRESHOLDS` meanwhile)."""

    workers = 1

    def map_unordered(self, tasks: Iterable[Task]) -> Iterator[Done | Failed]:
        with replication_gc():
            for task in tasks:
                try:
                    value = task.fn(*_unwrap(task.args))
                except Exception as exc:  # a failing replication is reported, the others go on
                    yield failure(task, exc)
                else:
                    yield Done(task, value)


PARENT_POLL_S = 1.0  # how often a worker checks that the process that started it is alive


def _end_with_parent(parent: int) -> None:
    """Make this worker process end when ``parent`` (the egrid process) ends, however it ends.

    On Linux the kernel sends SIGKILL when the parent dies (``prctl(PR_SET_PDEATHSIG)``);
    everywhere a daemon thread also checks every :data:`PARENT_POLL_S` seconds and
    ends the worker once its parent is gone (a kill -9 of the parent included).
    """
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGKILL, 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except (OSError, AttributeError):  # pragma: no cover - no prctl: the thread below still ends it
            pass

    def watch() -> None:
        while True:
            if os.getppid() != parent and not _alive(parent):
                os._exit(1)
            time.sleep(PARENT_POLL_S)

    if os.getppid() != parent and not _alive(parent):  # died before the kernel was told
        os._exit(1)
    threading.Thread(target=watch, name="egrid-parent-watch", daemon=True).start()


def _alive(pid: int) -> bool:
    if sys.platform == "win32":  # pragma: no cover - os.kill would end the process there
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover
        return True
    return True


def _worker_start(parent: int) -> None:
    """Workers leave Ctrl-C and SIGTERM to the main process, which stops them; they end with it.
    They run replications only, with :data:`GC_THRESHOLDS`."""
    gc.set_threshold(*GC_THRESHOLDS)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _end_with_parent(parent)


class ProcessExecutor(Executor):
    """Local worker processes (``concurrent.futures``); one task per worker in flight."""

    KILLS_ALLOWED = 1  # a task that kills its worker while running alone is retried this often

    def __init__(self, workers: int | None = None):
        self.workers = max(1, int(workers or os.cpu_count() or 1))
        self._pool: ProcessPoolExecutor | None = None

    def _new_pool(self, n: int) -> ProcessPoolExecutor:
        self._shutdown(kill=True)
        self._pool = ProcessPoolExecutor(max_workers=n, initializer=_worker_start, initargs=(os.getpid(),))
        return self._pool

    def map_unordered(self, tasks: Iterable[Task]) -> Iterator[Done | Failed]:
        queue = list(tasks)
        queue.reverse()  # pop() from the end takes tasks in the order given
        if not queue:
            return
        width = min(self.workers, len(queue))
        pool = self._new_pool(width)
        running: dict = {}
        suspects: list[Task] = []  # tasks that were running when a worker died, run alone until cleared
        kills: dict[Hashable, int] = {}
        while queue or running or suspects:
            limit = 1 if suspects else width
            while len(running) < limit and (suspects or queue):
                task = suspects.pop() if suspects else queue.pop()
                running[pool.submit(_call, task.fn, task.args)] = task
            done, _ = wait(running, return_when=FIRST_COMPLETED)
            broken: list[Task] = []
            for fut in done:
                task = running.pop(fut)
                exc = fut.exception()
                if exc is None:
                    yield Done(task, fut.result())
                elif isinstance(exc, BrokenProcessPool):
                    broken.append(task)
                else:
                    yield failure(task, exc)
            if broken:
                for fut, task in list(running.items()):  # the pool is gone: keep what finished, retry the rest
                    if fut.done() and fut.exception() is None:
                        yield Done(task, fut.result())
                    else:
                        broken.append(task)
                running.clear()
                if len(broken) == 1:  # it ran alone: it killed its worker
                    task = broken[0]
                    kills[task.key] = kills.get(task.key, 0) + 1
                    if kills[task.key] > self.KILLS_ALLOWED:
                        yield Failed(task, "WorkerDied: the worker process running this replication died "
                                           "(killed, out of memory or crashed)")
                        broken = []
                if broken:
                    log.warning("a worker process died; retrying %d replication(s) one at a time", len(broken))
                suspects.extend(reversed(broken))
                pool = self._new_pool(width)

    def _shutdown(self, kill: bool) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        if kill:
            terminate = getattr(pool, "terminate_workers", None)  # Python >= 3.14
            if terminate is not None:
                terminate()
            else:
                for proc in list((getattr(pool, "_processes", None) or {}).values()):
                    if proc.is_alive():
                        proc.terminate()
        pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        """End the pool; workers still running a task are terminated (their result is lost, not half-written)."""
        self._shutdown(kill=True)


SECURITY_KEYS = {"ca_file": "tls_ca_file", "cert": "tls_client_cert", "key": "tls_client_key"}


def load_security(path):
    """A Dask TLS configuration from a small TOML file → ``distributed.security.Security``.

    The file names the certificate authority and this client's certificate and
    key (paths relative to the file)::

        ca_file = "ca.pem"          # the authority that signed the scheduler's and workers' certificates
        cert = "client.pem"         # this machine's certificate (may hold the key too)
        key = "client-key.pem"      # optional if cert holds the key

    Encryption is then required: the client refuses a plain ``tcp://`` scheduler.
    """
    from pathlib import Path

    from enforcement_grid.sim.load import _read_toml

    path = Path(path)
    raw = _read_toml(path)
    problems = [f"{path}: {k}: unknown key; expected one of {', '.join(SECURITY_KEYS)}"
                for k in raw if k not in SECURITY_KEYS]
    for k in ("ca_file", "cert"):
        if k not in raw:
            problems.append(f"{path}: {k}: missing; expected the path of a PEM file")
    files = {}
    for k, v in raw.items():
        if k not in SECURITY_KEYS:
            continue
        if not isinstance(v, str) or not v.strip():
            problems.append(f"{path}: {k}: expected the path of a PEM file; got {v!r}")
            continue
        file = (path.parent / v).resolve()
        if not file.is_file():
            problems.append(f"{path}: {k}: file {file} not found")
        files[SECURITY_KEYS[k]] = str(file)
    if problems:
        raise ScenarioError(problems)
    from distributed.security import Security

    return Security(require_encryption=True, **files)


def plain_tcp_warning(address: str) -> str | None:
    """What to say when a scheduler is reached over plain, unauthenticated TCP (anything but loopback)."""
    text = str(address)
    if not text.startswith("tcp://"):
        return None
    host = text[len("tcp://"):].rsplit(":", 1)[0].strip("[]")
    if host in ("127.0.0.1", "localhost", "::1"):
        return None
    return (f"warning: {text} is plain TCP: unauthenticated and unencrypted. Anyone who can reach that port "
            f"can run code on the workers, and results come back as pickles that egrid loads. Bind the "
            f"scheduler to a private interface, or use tls:// with --security (docs/sweeps.md)")


class DaskExecutor(Executor):
    """Tasks on a Dask distributed cluster, given its scheduler's address (or a ``Client``).

    ``security``: a ``distributed.security.Security`` (TLS certificates, see
    :func:`load_security`) for a ``tls://`` scheduler.
    """

    def __init__(self, scheduler, timeout_s: float = 20.0, security=None):
        try:
            from distributed import Client
        except ImportError as err:  # pragma: no cover - a dependency of the project
            raise ScenarioError(f"--scheduler: dask.distributed is not installed ({err})") from None
        if isinstance(scheduler, Client):
            self.client, self._own = scheduler, False
        else:
            if security is not None and not str(scheduler).startswith("tls://"):
                raise ScenarioError(f"--scheduler {scheduler}: with --security the address must start with "
                                    f"tls:// (e.g. tls://10.0.0.5:8786); plain tcp:// is not encrypted")
            if security is None and str(scheduler).startswith("tls://"):
                from distributed.security import Security

                security = Security()  # TLS files from the Dask configuration, if it names them
                if security.tls_ca_file is None:
                    raise ScenarioError(f"--scheduler {scheduler}: a tls:// scheduler needs certificates; "
                                        f"expected --security FILE (docs/sweeps.md)")
            extra = {"security": security} if security is not None else {}
            try:
                self.client = Client(str(scheduler), timeout=f"{timeout_s}s", set_as_default=False, **extra)
            except (OSError, TimeoutError, ValueError, TypeError) as err:
                raise ScenarioError(
                    f"--scheduler {scheduler}: cannot connect to a Dask scheduler there ({err}); "
                    f"expected the address printed by `dask scheduler`, e.g. tls://10.0.0.5:8786"
                ) from None
            self._own = True
        self.workers = max(1, sum(self.client.nthreads().values()))
        self._futures: dict = {}

    def map_unordered(self, tasks: Iterable[Task]) -> Iterator[Done | Failed]:
        from distributed import as_completed

        scattered: dict[int, Any] = {}
        keep_alive = []  # Shared values, so their id() is not reused while scattered

        def arg(a):
            if not isinstance(a, Shared):
                return a
            if id(a) not in scattered:
                keep_alive.append(a)
                scattered[id(a)] = self.client.scatter(a.value, hash=False)
            return scattered[id(a)]

        futures = self._futures
        for task in tasks:
            fut = self.client.submit(_on_dask_worker, task.fn, *[arg(a) for a in task.args], pure=False)
            futures[fut] = task
        try:
            for fut in as_completed(list(futures), loop=self.client.loop):
                task = futures.pop(fut)
                if fut.status == "finished":
                    yield Done(task, fut.result())
                elif fut.status == "error":
                    yield failure(task, fut.exception())
                else:
                    raise ExecutorLost(
                        f"the Dask scheduler cancelled or lost replication {task.replication} of "
                        f"{task.scenario} ({fut.status}); is the scheduler still running?"
                    )
                fut.release()
        finally:
            self.client.cancel(list(futures))
            futures.clear()
            for f in scattered.values():
                f.release()

    def close(self) -> None:
        if self._futures:
            self.client.cancel(list(self._futures))
            self._futures.clear()
        if self._own:
            self.client.close()


def _on_dask_worker(fn, *args):
    """A task on a Dask worker: the worker's collector set to :data:`GC_THRESHOLDS` (for good, as a
    local worker's; a worker may run tasks in several threads, so not set and restored per task)."""
    if gc.get_threshold() != GC_THRESHOLDS:
        gc.set_threshold(*GC_THRESHOLDS)
    return fn(*args)


def make_executor(workers: int | None = None, scheduler=None, security=None) -> Executor:
    """Dask if a scheduler address (or Client) is given; else local processes; one worker runs in-process.

    ``security``: a ``Security`` or the path of a TLS file (:func:`load_security`) for a Dask scheduler.
    """
    if scheduler is not None:
        if security is not None and not hasattr(security, "get_connection_args"):
            security = load_security(security)
        return DaskExecutor(scheduler, security=security)
    n = os.cpu_count() or 1 if workers is None else max(1, int(workers))
    return SerialExecutor() if n == 1 else ProcessExecutor(n)


__all__ = [
    "Task", "Shared", "Done", "Failed", "Executor", "ExecutorLost", "SerialExecutor", "ProcessExecutor",
    "DaskExecutor", "make_executor", "failure", "load_security", "plain_tcp_warning",
]
