"""Output folders that land whole: staged beside the target, swapped in, one writer at a time.

Every command writes into a staging folder inside ``OUT`` (``OUT/.coverage.tmp-XXXX/``), laid
out as ``OUT`` itself will be (``coverage/points.csv`` …). Only when the command has finished,
each top-level entry of the staging folder replaces the entry of the same name in ``OUT``:

1. the old entry is renamed aside (into the staging folder's ``.old/``),
2. the new one is renamed in,
3. the staging folder, and with it the old entry, is deleted.

A failure at step 2 renames the old entry back; a process killed anywhere leaves either the old
entry in place or the new one, and the next run puts back an old entry that a killed run left
aside. Because whole folders are swapped, nothing of an earlier run survives that the new run
did not write (a second ``routes`` run leaves no sheet of the first one's runners).

A run holds ``fcntl.flock`` on the ``OUT`` folder itself from start to swap: a second run into the same
folder waits a bounded time, then fails with :class:`OutputBusyError`.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import BianminError, InputError, InputProblem

__all__ = ["LOCK_NAME", "LOCK_WAIT_S", "OutputBusyError", "check_out_dir", "output_lock",
           "replace_folder", "staged_output", "staged_folder", "swap_in", "is_empty_folder"]

log = logging.getLogger(__name__)

#: The lock file inside every output folder.
LOCK_NAME = ".lock"
#: Seconds a run waits for another run's lock before giving up.
LOCK_WAIT_S = 30.0
_POLL_S = 0.1
_STAGE_MARK = ".tmp-"
_OLD = ".old"


class OutputBusyError(BianminError):
    """Another run holds the output folder's lock."""


def check_out_dir(path: str | os.PathLike, *, what: str = "output folder") -> Path:
    """Check, before any work, that ``path`` is or can become a writable folder.

    Parameters
    ----------
    path
        The folder.
    what
        How messages name it.

    Returns
    -------
    pathlib.Path
        ``path`` as a Path.

    Raises
    ------
    InputError
        When ``path`` is a file, or the folder (or its nearest existing parent) is not writable.
    """
    p = Path(path)
    name = str(p)
    if p.exists() and not p.is_dir():
        raise InputError(InputProblem(name, None, None, f"the {what} is a file, not a folder"))
    probe = p
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise InputError(InputProblem(name, None, None,
                                      f"cannot create the {what}: {probe} is a file"))
    if not os.access(probe, os.W_OK | os.X_OK):
        raise InputError(InputProblem(name, None, None,
                                      f"the {what} is not writable ({probe}: permission denied)"))
    return p


def is_empty_folder(path: str | os.PathLike) -> bool:
    """True when ``path`` is missing or holds nothing but a lock file."""
    p = Path(path)
    if not p.exists():
        return True
    return p.is_dir() and all(e.name == LOCK_NAME for e in p.iterdir())


@contextlib.contextmanager
def output_lock(lock_file: str | os.PathLike, *, wait_s: float = LOCK_WAIT_S,
                label: str | None = None) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``lock_file`` (created), waiting at most ``wait_s``.

    ``lock_file`` may be a folder: the lock is then taken on the folder itself (Linux allows
    ``flock`` on a directory), so nothing is left behind in it.

    Raises
    ------
    OutputBusyError
        When another process still holds it after ``wait_s`` seconds.
    """
    lock_file = Path(lock_file)
    lock_file.parent.mkdir(parents=True, exist_ok=True)
    if lock_file.is_dir():
        fd = os.open(lock_file, os.O_RDONLY | os.O_DIRECTORY)
    else:
        fd = os.open(lock_file, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + max(0.0, wait_s)
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise OutputBusyError(
                        f"{label or lock_file.parent} is being written by another bianmin run "
                        f"(lock {lock_file} held); waited {wait_s:g} s, try again when it has "
                        "finished") from None
                time.sleep(_POLL_S)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def _recover(out: Path, pattern: str = f".*{_STAGE_MARK}*") -> None:
    """Put back entries a killed run left aside and delete its staging folders."""
    for stage in out.glob(pattern):
        if not stage.is_dir():
            continue
        old = stage / _OLD
        if old.is_dir():
            for entry in old.iterdir():
                if not (out / entry.name).exists():
                    os.rename(entry, out / entry.name)
                    log.warning("restored %s left aside by an interrupted run", out / entry.name)
        shutil.rmtree(stage, ignore_errors=True)


def swap_in(stage: Path, out: Path) -> list[Path]:
    """Replace each top-level entry of ``out`` by the same-named entry of ``stage``.

    The old entry goes aside into ``stage/.old`` first and comes back if the rename in fails.
    Returns the final paths.
    """
    old_dir = stage / _OLD
    old_dir.mkdir(exist_ok=True)
    done = []
    for entry in sorted(stage.iterdir()):
        if entry.name == _OLD:
            continue
        final = out / entry.name
        aside = old_dir / entry.name
        had_old = final.exists() or final.is_symlink()
        if had_old:
            os.rename(final, aside)
        try:
            os.rename(entry, final)
        except BaseException:
            if had_old:
                os.rename(aside, final)
            raise
        done.append(final)
    return done


def replace_folder(new: str | os.PathLike, final: str | os.PathLike) -> Path:
    """Put the finished folder ``new`` in place of ``final`` whole (old one removed after).

    The old folder is moved aside first and comes back if the rename in fails; ``new`` must
    be on the same file system (build it beside ``final``).
    """
    new, final = Path(new), Path(final)
    aside = None
    if final.exists():
        aside = Path(tempfile.mkdtemp(prefix=f".{final.name}.old.", dir=final.parent))
        os.replace(final, aside / "x")
    try:
        os.replace(new, final)
    except BaseException:
        if aside is not None:
            os.replace(aside / "x", final)
        raise
    finally:
        if aside is not None:
            shutil.rmtree(aside, ignore_errors=True)
    return final


@contextlib.contextmanager
def staged_output(out: str | os.PathLike, name: str, *, wait_s: float = LOCK_WAIT_S
                  ) -> Iterator[Path]:
    """Lock ``out``, yield an empty staging folder laid out like ``out``, swap it in on success.

    Parameters
    ----------
    out
        The output folder (created).
    name
        The command, for the staging folder's name (``out/.<name>.tmp-XXXX``).
    wait_s
        Seconds to wait for another run's lock.

    Yields
    ------
    pathlib.Path
        The staging folder. Write ``coverage/…``, ``map/…`` etc. into it; each top-level entry
        replaces the same-named entry of ``out`` whole when the block ends without an error.
        On an error nothing in ``out`` changes.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    with output_lock(out, wait_s=wait_s, label=str(out)):
        _recover(out)
        stage = Path(tempfile.mkdtemp(prefix=f".{name}{_STAGE_MARK}", dir=out))
        os.chmod(stage, 0o755)
        try:
            yield stage
            swap_in(stage, out)
        finally:
            shutil.rmtree(stage, ignore_errors=True)


@contextlib.contextmanager
def staged_folder(target: str | os.PathLike, *, force: bool = False,
                  wait_s: float = LOCK_WAIT_S, what: str = "folder") -> Iterator[Path]:
    """Build a whole folder beside ``target`` and swap it in as ``target`` on success.

    For outputs that *are* a folder (a region made by ``region init``). The lock is
    ``<parent>/.<name>.lock``; a non-empty ``target`` is refused unless ``force``.

    Raises
    ------
    InputError
        When ``target`` holds files and ``force`` is false.
    """
    target = Path(target)
    check_out_dir(target, what=what)
    parent = target.absolute().parent
    parent.mkdir(parents=True, exist_ok=True)
    with output_lock(parent / f".{target.name}{LOCK_NAME}", wait_s=wait_s, label=str(target)):
        _recover(parent, f".{target.name}.swap-*")
        _recover(parent, f".{target.name}{_STAGE_MARK}*")
        if not force and not is_empty_folder(target):
            raise InputError(InputProblem(
                str(target), None, None,
                f"the {what} is not empty; choose an empty or new folder, or allow replacing "
                "it (force)"))
        stage = Path(tempfile.mkdtemp(prefix=f".{target.name}{_STAGE_MARK}", dir=parent))
        os.chmod(stage, 0o755)
        holder = Path(tempfile.mkdtemp(prefix=f".{target.name}.swap-", dir=parent))
        try:
            yield stage
            os.rename(stage, holder / target.name)
            swap_in(holder, parent)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
            shutil.rmtree(holder, ignore_errors=True)
