"""Writing a binary answer (audio) to a file as it arrives, never holding it whole in memory.

`Sink` opens the target (a path, or a binary file object the caller keeps open) and counts what is
written; the two small read loops are the clients' (`_download`)."""

from __future__ import annotations

import os
from typing import IO, Any, Optional, Union

from .errors import MeganovaError

FileTarget = Union[str, "os.PathLike[str]", IO[bytes]]
"""Where a download goes: a path (created or replaced) or a binary file object open for writing."""


class Sink:
    """The open target of one download."""

    __slots__ = ("_owned", "file", "written")

    def __init__(self, target: FileTarget) -> None:
        self.written = 0
        self._owned: Optional[IO[bytes]] = None
        if isinstance(target, (str, os.PathLike)):
            try:
                self._owned = open(target, "wb")  # noqa: SIM115 - closed by close()
            except OSError as exc:
                raise MeganovaError(f"Cannot write the answer to {os.fspath(target)!r}: {exc.strerror}.") from None
            self.file: Any = self._owned
        elif callable(getattr(target, "write", None)):
            self.file = target
        else:
            raise MeganovaError(f"file must be a path or a binary file object, got {type(target).__name__}.")

    def write(self, piece: bytes) -> None:
        """Write one piece of the body."""
        self.file.write(piece)
        self.written += len(piece)

    def close(self) -> None:
        """Close the file when it was opened here (never the caller's file object)."""
        if self._owned is not None:
            self._owned.close()
