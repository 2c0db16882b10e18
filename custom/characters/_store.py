"""`SessionStore`: chat sessions in a SQLite file (the standard library's `sqlite3`)."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import threading
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from meganova.errors import MeganovaError

__all__ = ["SessionStore", "SessionStoreError"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    name TEXT PRIMARY KEY,
    state TEXT NOT NULL,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS turns (
    session TEXT NOT NULL,
    turn_id TEXT NOT NULL,
    created REAL NOT NULL,
    PRIMARY KEY (session, turn_id)
);
CREATE TABLE IF NOT EXISTS messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    session TEXT NOT NULL,
    turn_id TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_by_session ON messages (session, id);
"""


class SessionStoreError(MeganovaError):
    """The session store could not be read or written (the file, a lock held too long, a bad row)."""


class SessionStore:
    """Chat sessions kept in a SQLite file: `SessionStore("chats.db")` (created when missing).

    Write-ahead logging, one transaction per write (`BEGIN IMMEDIATE`), a busy timeout (`timeout`
    seconds) for the lock: several threads (one connection each) and processes may use one file at once.
    A turn (the user's message and the whole answer) is written in one transaction under an id: written
    twice, it is kept once; a crash mid-write leaves the earlier turns and no half turn."""

    def __init__(self, path: str = "meganova-sessions.db", *, timeout: float = 30.0) -> None:
        self.path = os.fspath(path)
        """The SQLite file."""
        self.timeout = timeout
        """Seconds a write waits for another writer's lock before failing."""
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: List[sqlite3.Connection] = []
        self._closed = False
        self._run(lambda db: db.executescript(_SCHEMA), write=False)

    def __repr__(self) -> str:
        return f"SessionStore({self.path!r})"

    def _connection(self) -> sqlite3.Connection:
        if self._closed:
            raise SessionStoreError("this SessionStore is closed")
        db: Optional[sqlite3.Connection] = getattr(self._local, "db", None)
        if db is not None and getattr(self._local, "pid", None) == os.getpid():
            return db
        try:
            db = sqlite3.connect(self.path, timeout=self.timeout, isolation_level=None, check_same_thread=False)
            db.execute(f"PRAGMA busy_timeout = {int(self.timeout * 1000)}")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = FULL")
        except sqlite3.Error as exc:
            raise SessionStoreError(f"cannot open the session store {self.path}: {exc}") from None
        self._local.db, self._local.pid = db, os.getpid()
        with self._lock:
            self._connections.append(db)
        return db

    def _run(self, work: Any, write: bool = True) -> Any:
        db = self._connection()
        try:
            if not write:
                return work(db)
            db.execute("BEGIN IMMEDIATE")
            try:
                result = work(db)
            except BaseException:
                db.execute("ROLLBACK")
                raise
            db.execute("COMMIT")
            return result
        except sqlite3.Error as exc:
            raise SessionStoreError(f"the session store {self.path} failed: {exc}") from None

    # --- sessions ----------------------------------------------------------------------------

    def save_state(self, name: str, state: Mapping[str, Any]) -> None:
        """Creates or updates the session `name` with `state` (its character, model, options)."""
        text = json.dumps(dict(state), ensure_ascii=False)
        now = time.time()

        def work(db: sqlite3.Connection) -> None:
            db.execute(
                "INSERT INTO sessions (name, state, created, updated) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (name) DO UPDATE SET state = excluded.state, updated = excluded.updated",
                (name, text, now, now),
            )

        self._run(work)

    def load(self, name: str) -> Optional[Tuple[Dict[str, Any], List[Dict[str, Any]]]]:
        """(state, messages oldest first) of the session `name`, or None when there is none."""

        def work(db: sqlite3.Connection) -> Optional[Tuple[Dict[str, Any], List[Dict[str, Any]]]]:
            row = db.execute("SELECT state FROM sessions WHERE name = ?", (name,)).fetchone()
            if row is None:
                return None
            rows = db.execute("SELECT message FROM messages WHERE session = ? ORDER BY id", (name,)).fetchall()
            return json.loads(row[0]), [json.loads(r[0]) for r in rows]

        db = self._connection()
        try:
            db.execute("BEGIN")  # one snapshot for both reads
            try:
                result: Optional[Tuple[Dict[str, Any], List[Dict[str, Any]]]] = work(db)
            finally:
                db.execute("ROLLBACK")
            return result
        except (sqlite3.Error, ValueError) as exc:
            raise SessionStoreError(f"cannot read the session {name!r} from {self.path}: {exc}") from None

    def messages(self, name: str) -> List[Dict[str, Any]]:
        """The messages of the session `name`, oldest first ([] when there is none)."""
        loaded = self.load(name)
        return [] if loaded is None else loaded[1]

    def record_turn(self, name: str, turn_id: str, messages: Sequence[Mapping[str, Any]]) -> bool:
        """Appends `messages` (one turn) to the session `name` in one transaction; False (and nothing
        written) when a turn of that id is already there."""
        texts = [json.dumps(dict(message), ensure_ascii=False) for message in messages]
        now = time.time()

        def work(db: sqlite3.Connection) -> bool:
            try:
                db.execute("INSERT INTO turns (session, turn_id, created) VALUES (?, ?, ?)", (name, turn_id, now))
            except sqlite3.IntegrityError:
                return False
            db.executemany(
                "INSERT INTO messages (session, turn_id, message) VALUES (?, ?, ?)",
                [(name, turn_id, text) for text in texts],
            )
            db.execute("UPDATE sessions SET updated = ? WHERE name = ?", (now, name))
            return True

        recorded: bool = self._run(work)
        return recorded

    def names(self) -> List[str]:
        """The sessions' names, most recently updated first."""
        rows = self._run(lambda db: db.execute("SELECT name FROM sessions ORDER BY updated DESC").fetchall(), False)
        return [row[0] for row in rows]

    def delete(self, name: str) -> None:
        """Removes the session `name` and its messages."""

        def work(db: sqlite3.Connection) -> None:
            for table, column in (("messages", "session"), ("turns", "session"), ("sessions", "name")):
                db.execute(f"DELETE FROM {table} WHERE {column} = ?", (name,))

        self._run(work)

    def close(self) -> None:
        """Closes every connection this store opened (in this process)."""
        with self._lock:
            self._closed = True
            connections, self._connections = self._connections, []
        for db in connections:
            with contextlib.suppress(sqlite3.Error):
                db.close()

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
