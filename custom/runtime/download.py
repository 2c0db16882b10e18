"""Writing a binary answer (audio) to a file, atomically, never holding it whole in memory.

`Sink` checks the target before anything is sent (the request is billable): a path whose directory is
missing, a directory, a place we may not write, a text-mode or closed file object are refused with a
`MeganovaError`. The body is written to a temporary file: for a path, one beside the target
(`.<name>.<random>.part`), moved over it with `os.replace` once the whole answer arrived (after an
`fsync` when asked); for a file object, an anonymous temporary file copied into it at the end. A failed
call (cut connection, short body, timeout, an error answer) leaves the old file untouched and no
partial or temporary file behind; a retry starts the temporary file again from zero.

The body itself is read by the send loops (`send`, the one body reader), like every answer."""

from __future__ import annotations

import contextlib
import errno
import io
import os
import secrets
import shutil
import tempfile
from typing import IO, Any, Optional, Tuple, Union

from .errors import MeganovaError

FileTarget = Union[str, "os.PathLike[str]", IO[bytes]]
"""Where a download goes: a path (created or replaced) or a binary file object open for writing."""


def _refuse(what: str) -> MeganovaError:
    return MeganovaError(f"Cannot write the answer to {what}; nothing was sent.")


def _create_beside(directory: str, name: str) -> Tuple[int, str]:
    """A new temporary file `.<name>.<random>.part` in `directory`, with the permissions `open("wb")`
    would give (the umask applies; `tempfile.mkstemp` would make it 0600)."""
    for _ in range(100):
        path = os.path.join(directory, f".{name}.{secrets.token_hex(6)}.part")
        try:
            return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666), path
        except FileExistsError:
            continue
    raise FileExistsError(errno.EEXIST, "no free temporary name")


class Sink:
    """The temporary file of one download, and where it goes on success."""

    __slots__ = ("_fsync", "_path", "_target", "_temp", "_temp_path", "written")

    def __init__(self, target: FileTarget, fsync: bool = False) -> None:
        self.written = 0
        self._fsync = fsync
        self._path: Optional[str] = None
        self._target: Any = None
        self._temp_path: Optional[str] = None
        if isinstance(target, (str, os.PathLike)):
            self._path = path = os.path.abspath(os.fspath(target))
            if os.path.isdir(path):
                raise _refuse(f"{path!r}: it is a directory")
            directory, name = os.path.split(path)
            if not os.path.isdir(directory):
                raise _refuse(f"{path!r}: the directory {directory!r} does not exist")
            try:
                fd, self._temp_path = _create_beside(directory, name)
                with contextlib.suppress(OSError):  # an existing target keeps its permissions, as with open("wb")
                    os.chmod(self._temp_path, os.stat(path).st_mode & 0o7777)
            except OSError as exc:
                raise _refuse(f"{path!r}: {exc.strerror}") from None
            self._temp: IO[bytes] = os.fdopen(fd, "wb")
            return
        if not callable(getattr(target, "write", None)):
            raise MeganovaError(f"file must be a path or a binary file object, got {type(target).__name__}.")
        if isinstance(target, io.TextIOBase) or "b" not in str(getattr(target, "mode", "b")):
            raise _refuse(f"a text-mode file object ({type(target).__name__}): open it with 'wb'")
        try:
            target.write(b"")  # a text stream raises TypeError, a closed one ValueError
        except (TypeError, ValueError, OSError) as exc:
            raise _refuse(f"the file object given ({type(exc).__name__}: {exc})") from None
        self._target = target
        self._temp = tempfile.TemporaryFile()  # noqa: SIM115 - closed by commit() / discard()

    def write(self, piece: bytes) -> None:
        """Write one decoded piece of the body."""
        self._temp.write(piece)
        self.written += len(piece)

    def restart(self) -> None:
        """Forget what a failed attempt wrote (before a retry)."""
        if self.written:
            self._temp.seek(0)
            self._temp.truncate()
            self.written = 0

    def commit(self) -> int:
        """The whole answer arrived: move it to the target; the bytes written."""
        temp = self._temp
        try:
            if self._path is not None:
                temp.flush()
                if self._fsync:
                    os.fsync(temp.fileno())
                temp.close()
                assert self._temp_path is not None
                os.replace(self._temp_path, self._path)
                self._temp_path = None
            else:
                temp.seek(0)
                shutil.copyfileobj(temp, self._target)
                temp.close()
        except OSError as exc:
            self.discard()
            raise MeganovaError(f"Cannot write the answer to {self._path or 'the file object'}: {exc}.") from None
        return self.written

    def discard(self) -> None:
        """The call failed: remove the temporary file; the target is left as it was."""
        with contextlib.suppress(OSError):
            self._temp.close()
        if self._temp_path is not None:
            with contextlib.suppress(OSError):
                os.unlink(self._temp_path)
            self._temp_path = None
