"""One batch driver per output directory: an exclusive lock on ``OUTDIR/.lock``, held for the whole run.

The lock is an operating-system lock on an open file (``flock`` on POSIX, ``msvcrt.locking`` on Windows), so it
is released by the OS when its process ends in any way: a driver killed with SIGKILL never leaves a stale lock
behind, and the next run resumes at once. A second driver started while the first is running is refused with an
InputError naming the process that holds the directory (the CLI exits 2); it touches nothing in the directory.
The file itself stays (removing it would let a third driver lock a new file beside a waiting one).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from types import TracebackType
from typing import IO

from allocator.errors import InputError, InputIssue

LOCK_NAME = ".lock"


class DirectoryLock:
    """``with DirectoryLock(outdir):`` holds OUTDIR for this process, or raises InputError at once."""

    def __init__(self, outdir: Path) -> None:
        self.path = outdir / LOCK_NAME
        self.handle: IO[str] | None = None

    def __enter__(self) -> DirectoryLock:
        try:
            handle = open(self.path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the whole run
        except OSError as error:
            raise InputError([InputIssue(str(self.path.parent), f"cannot write to the output directory: "
                                         f"{error.strerror or error}", "unwritable")]) from None
        if not _try_lock(handle):
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise InputError([InputIssue(str(self.path.parent), f"is in use by another batch driver ({holder}); "
                                         "wait for it to finish, or give another -o directory", "locked")])
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}\n")
        handle.flush()
        self.handle = handle
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        if self.handle is not None:
            self.handle.close()  # closing the file releases the lock
            self.handle = None


def _try_lock(handle: IO[str]) -> bool:
    """Take the exclusive lock without waiting; False if another process holds it."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            handle.seek(0)
            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True
