"""Folders written whole or not at all: checked first, filled beside the target, marked, swapped into place.

Every folder the toolkit writes (a run folder, a report, a plan, a sweep) goes
through :class:`staged_folder`:

1. **Checked before any work** (:func:`check_target`): the target is not a file,
   not a symbolic link, not the current folder, holds none of the command's own
   inputs, and its nearest existing parent can be written in (tried, not
   guessed).  An existing folder with something in it is refused unless
   ``force``; and ``force`` replaces only a folder the toolkit itself wrote,
   one holding the marker file :data:`MARKER` (what wrote it, when).
2. **Filled in a hidden temporary folder beside the target**
   (``.NAME.egrid-tmp-XXXX/``, same file system, so the last step is a rename).
   It holds a note of the process filling it (:data:`OWNER`), so that a later
   command can tell a temporary folder of a killed process from one still being
   filled, and clean it up (:func:`clean_stale`).
3. **Marked** with :data:`MARKER`, then **renamed into place**.  The target is
   checked again at that moment: a folder that appeared while the command ran
   (another command writing the same place) is never overwritten without
   ``force``, and never if egrid did not write it; the new results are then
   kept beside it (``NAME.conflict-PID``) and the error says so.

An old folder being replaced is first renamed aside and deleted only once the
new one is in place; a process killed in between leaves it aside, and the next
command puts it back if nothing replaced it.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from .errors import ScenarioError

MARKER = ".egrid-output"  # in every folder the toolkit wrote: what wrote it, when
OWNER = ".egrid-staging"  # in a temporary folder: the process filling it
TMP_TAG = ".egrid-tmp-"
OLD_TAG = ".egrid-old-"
STALE_WITHOUT_OWNER_S = 3600.0  # a temporary folder with no owner note (killed at its first instant)


class TargetChanged(ScenarioError):
    """The target changed while the command ran; the new results were kept elsewhere (``kept``)."""

    def __init__(self, problems, kept: Path | None = None):
        super().__init__(problems)
        self.kept = kept


@dataclass(frozen=True)
class TargetState:
    """What the target was when checked: ``absent``, ``empty`` or ``marked`` (an egrid folder, with ``force``)."""

    out: Path
    kind: str


def _resolve(p: Path) -> Path:
    try:
        return Path(os.path.abspath(p)).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return Path(os.path.abspath(p))


def read_marker(folder: Path) -> dict | None:
    """The marker of a folder the toolkit wrote (``{}`` if unreadable), or None if it has none."""
    path = Path(folder) / MARKER
    try:
        if not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def write_marker(folder: Path, writer: str, what: str) -> None:
    from enforcement_grid import __version__

    meta = {"written_by": writer, "what": what, "version": __version__,
            "created": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    (Path(folder) / MARKER).write_text(json.dumps(meta, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


def _kind_now(out: Path) -> str:
    """``absent``, ``empty``, ``marked``, ``foreign`` (a folder egrid did not write), ``link`` or ``file``."""
    if out.is_symlink():
        return "link"
    if not out.exists():
        return "absent"
    if not out.is_dir():
        return "file"
    with os.scandir(out) as it:
        if next(it, None) is None:
            return "empty"
    return "marked" if read_marker(out) is not None else "foreign"


def _nearest_existing(folder: Path) -> Path:
    a = folder
    while not a.exists() and not a.is_symlink() and a != a.parent:
        a = a.parent
    return a


def check_writable(out: Path, option: str = "--out") -> None:
    """The folder that will hold ``out`` exists or can be made, and can be written in: tried, not guessed."""
    parent = Path(os.path.abspath(out)).parent
    a = _nearest_existing(parent)
    if a.is_symlink() and not a.exists():
        raise ScenarioError(f"{out}: cannot be written: {a} is a symbolic link to {os.readlink(a)}, "
                            f"which does not exist; choose another {option}")
    if not a.is_dir():
        raise ScenarioError(f"{out}: cannot be written: {a} is a file, not a folder; choose another {option}")
    try:
        probe = tempfile.mkdtemp(prefix=".egrid-probe-", dir=a)
        os.rmdir(probe)
    except OSError as err:
        raise ScenarioError(f"{out}: cannot be written: cannot create anything in {a} "
                            f"({err.strerror or err}); choose another {option}") from None


def check_target(out, force: bool = False, *, inputs: Iterable = (), what: str = "folder",
                 option: str = "--out") -> TargetState:
    """Refuse a target that cannot or must not be written, before any work is done (see module docstring)."""
    out = Path(out)
    where = _resolve(out)
    for p in inputs:
        if p is None:
            continue
        held = _resolve(Path(p))
        if held == where or where in held.parents:
            raise ScenarioError(f"{out}: holds this command's own input {p}; choose another {option} "
                                f"(--force never replaces a folder a command reads from)")
    cwd = _resolve(Path.cwd())
    if where == cwd or where in cwd.parents:
        raise ScenarioError(f"{out}: is the current folder or holds it; choose another {option}")
    kind = _kind_now(out)
    if kind == "link":
        target = os.readlink(out)
        state = "which does not exist" if not out.exists() else "and is not replaced"
        raise ScenarioError(f"{out}: is a symbolic link to {target}, {state}; choose another {option}")
    if kind == "file":
        raise ScenarioError(f"{out}: exists and is not a folder; choose another {option}")
    if kind in ("marked", "foreign") and not force:
        raise ScenarioError(f"{out}: the {what} already exists; choose another {option} or add --force to replace it")
    if kind == "foreign":
        raise ScenarioError(
            f"{out}: was not written by egrid (it holds no {MARKER} file), and --force replaces only "
            f"folders egrid wrote; move or delete it yourself, or choose another {option}"
        )
    check_writable(out, option)
    return TargetState(out, kind)


# --------------------------------------------------------------------------- stale temporaries


def _owner_note() -> str:
    return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.time()})


def _alive(pid: int) -> bool:
    if sys.platform == "win32":  # os.kill(pid, 0) would end the process there; assume it lives
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_stale(folder: Path) -> bool:
    note = folder / OWNER
    try:
        owner = json.loads(note.read_text(encoding="utf-8"))
    except FileNotFoundError:
        try:
            return time.time() - folder.stat().st_mtime > STALE_WITHOUT_OWNER_S
        except OSError:
            return False
    except (OSError, ValueError):
        return False
    if owner.get("host") != socket.gethostname():
        return False  # another machine's, on a shared disk: its own next run cleans it
    return not _alive(int(owner.get("pid", -1)))


def clean_stale(out: Path) -> list[Path]:
    """Remove the temporary folders of ``out`` left by killed processes; put back an old folder set aside.

    Returns what was removed or restored.  Folders of live processes are left alone.
    """
    out = Path(out)
    parent = out.parent if str(out.parent) else Path(".")
    done = []
    try:
        entries = list(parent.iterdir())
    except OSError:
        return done
    for entry in entries:
        name = entry.name
        if not name.startswith(f".{out.name}.egrid-") or not entry.is_dir() or entry.is_symlink():
            continue
        rest = name[len(f".{out.name}"):]
        if not (rest.startswith(TMP_TAG) or rest.startswith(OLD_TAG)) or not _is_stale(entry):
            continue
        aside = entry / out.name
        if rest.startswith(OLD_TAG) and aside.is_dir() and not out.exists() and not out.is_symlink():
            try:
                os.rename(aside, out)  # killed between setting the old folder aside and placing the new one
            except OSError:
                pass
        shutil.rmtree(entry, ignore_errors=True)
        done.append(entry)
    return done


# --------------------------------------------------------------------------- placing


def _conflict(tmp: Path, out: Path, state: TargetState | None, now: str) -> TargetChanged:
    kept = out.with_name(f"{out.name}.conflict-{os.getpid()}")
    try:
        (tmp / OWNER).unlink(missing_ok=True)
        os.rename(tmp, kept)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
        kept = None
    appeared = state is not None and state.kind in ("absent", "empty")
    what = "appeared while this command was running (another command writing the same place?)" if appeared \
        else "changed while this command was running"
    keep = f"this command's results were written to {kept} instead" if kept else "this command's results were lost"
    fix = "add --force to replace a folder egrid wrote" if now == "marked" else \
        "it was not written by egrid, so even --force leaves it alone"
    return TargetChanged(f"{out}: {what}; it was left as it is and {keep} ({fix})", kept)


def place(tmp: Path, out: Path, force: bool, state: TargetState | None = None) -> None:
    """Rename the finished ``tmp`` to ``out``: a folder there is replaced only with ``force`` and only if egrid wrote it."""
    now = _kind_now(out)
    if now in ("absent", "empty"):
        try:
            if now == "empty":
                os.rmdir(out)
            os.rename(tmp, out)  # POSIX: fails if a non-empty folder appeared in between
            return
        except OSError as err:
            if err.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR, errno.EISDIR):
                raise
            now = _kind_now(out)
    if now != "marked" or not force:
        raise _conflict(tmp, out, state, now)
    trash = Path(tempfile.mkdtemp(prefix=f".{out.name}{OLD_TAG}", dir=out.parent))
    (trash / OWNER).write_text(_owner_note(), encoding="utf-8")
    os.rename(out, trash / out.name)
    try:
        os.rename(tmp, out)
    except OSError:
        os.rename(trash / out.name, out)
        shutil.rmtree(trash, ignore_errors=True)
        raise _conflict(tmp, out, state, _kind_now(out)) from None
    shutil.rmtree(trash, ignore_errors=True)


class staged_folder:
    """``with staged_folder(out, writer="egrid run", force=…) as tmp:`` fill ``tmp``; on success it becomes ``out``.

    On any exception (Ctrl-C included) the temporary folder is removed and
    nothing is placed.  ``state``: the result of an earlier :func:`check_target`
    (made before the work, so that a target appearing meanwhile is noticed);
    without it the target is checked on entry.
    """

    def __init__(self, out, *, writer: str, force: bool = False, inputs: Iterable = (), what: str = "folder",
                 option: str = "--out", state: TargetState | None = None):
        self.out = Path(out)
        self.writer, self.force, self.what = writer, force, what
        self.inputs, self.option, self.state = tuple(inputs), option, state
        self.tmp: Path | None = None

    def __enter__(self) -> Path:
        if self.state is None:
            self.state = check_target(self.out, self.force, inputs=self.inputs, what=self.what, option=self.option)
        clean_stale(self.out)
        self.out.parent.mkdir(parents=True, exist_ok=True)
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}{TMP_TAG}", dir=self.out.parent))
        try:
            (self.tmp / OWNER).write_text(_owner_note(), encoding="utf-8")
        except BaseException:
            shutil.rmtree(self.tmp, ignore_errors=True)
            raise
        return self.tmp

    def __exit__(self, exc_type, exc, tb) -> bool:
        tmp = self.tmp
        if exc_type is not None:
            shutil.rmtree(tmp, ignore_errors=True)
            return False
        try:
            (tmp / OWNER).unlink(missing_ok=True)
            write_marker(tmp, self.writer, self.what)
            place(tmp, self.out, self.force, self.state)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return False


def write_file_atomic(path: Path, write) -> None:
    """Write one file through a temporary name in the same folder, then rename: ``write(tmp_path)``."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}{TMP_TAG}", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


__all__ = [
    "MARKER", "TargetState", "TargetChanged", "check_target", "check_writable", "staged_folder", "place",
    "clean_stale", "read_marker", "write_marker", "write_file_atomic",
]
