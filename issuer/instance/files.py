"""Writing files safely: atomic replacement, and the checks on a path someone named with ``-o``.

A file or folder the user names on the command line (``-o``, ``--notices``)
is checked first (``check_output_file``): its folder must exist, and whatever
already sits at the path must be what we would write there (a regular file,
or a real folder). A FIFO, a device such as ``/dev/null``, a symbolic link or
a folder in place of a file is refused, never written through or replaced.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from errors import Code, InputError


def write_file_atomic(path: Path, data: bytes, *, mode: int = 0o644, durable: bool = True) -> None:
    """Write ``data`` to ``path`` via a temporary file in the same folder and a rename.

    Readers see the old file or the new one, never half of one; the temporary
    file has ``mode`` from its creation, so a secret is never briefly readable.
    ``durable=False`` skips the fsync for files that can be rebuilt from the
    registry (badges of a roster run: a crash may leave an empty one, which a
    re-run rewrites); the caller syncs once at the end instead.
    """
    path = Path(path)
    # Named after this process, not drawn at random as mkstemp does: a roster writes 40,000 files, and
    # mkstemp's name and file object cost more than the write (20-30 µs against 7-10 µs of CPU a file).
    # The name is taken when another thread writes the same file, or a dead process left it: then mkstemp.
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        handle = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    except FileExistsError:
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        temporary = Path(name)
    try:
        try:
            os.fchmod(handle, mode)  # exactly ``mode``, whatever the umask
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view):]
            if durable:
                os.fsync(handle)
        finally:
            os.close(handle)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


_KINDS = ((stat.S_ISLNK, "a symbolic link"), (stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
          (stat.S_ISCHR, "a device"), (stat.S_ISBLK, "a device"), (stat.S_ISSOCK, "a socket"))


def _existing_kind(path: Path, option: str) -> str | None:
    """What sits at ``path`` ("a regular file", "a FIFO (named pipe)", …), without following a link; None if nothing."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(Code.USAGE, f"{path} cannot be checked ({exc.strerror}); choose another {option}.",
                         file=str(path)) from exc
    return next((kind for test, kind in _KINDS if test(mode)), "a regular file")


def check_output_file(path: Path, *, option: str = "-o", folder: bool = False) -> Path:
    """``path`` if we may write a file there (a folder of files, with ``folder``; made if missing).

    USAGE unless its parent folder exists and nothing is at ``path`` but a
    regular file (a real folder, with ``folder``).
    """
    path = Path(path)
    parent = path.parent
    if not parent.is_dir():
        problem = "is not a folder" if parent.exists() else "does not exist"
        raise InputError(Code.USAGE, f"The folder {parent} {problem}; create it or choose another {option}.",
                         file=str(path))
    wanted = "a folder" if folder else "a regular file"
    kind = _existing_kind(path, option)
    if kind not in (None, wanted):
        raise InputError(Code.USAGE, f"{path} is {kind}, not {wanted}: Badgesmith neither writes through nor "
                         f"replaces it; choose another {option}.", file=str(path))
    return path


def write_output_file(path: Path, data: bytes, *, option: str = "-o") -> Path:
    """Write a file the user named, atomically, after ``check_output_file``; USAGE if it cannot be written."""
    path = check_output_file(path, option=option)
    try:
        write_file_atomic(path, data)
    except OSError as exc:
        raise InputError(Code.USAGE, f"{path} cannot be written ({exc.strerror}); choose another {option}.",
                         file=str(path)) from exc
    return path


__all__ = ["check_output_file", "write_file_atomic", "write_output_file"]
