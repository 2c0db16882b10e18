"""A hostile HTTP/1.1 server on loopback for tests: it sends exactly the bytes a test chooses.

`HostileServer(respond)` accepts connections in a thread; for each request it reads the request head
(and a Content-Length body), then calls `respond(conn, server)` in that connection's own thread, which
writes whatever it likes (drips, bombs, endless bodies) and may loop until `server.stopped` is set or
the client goes away (a write fails). The connection is closed after `respond` returns.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import zlib
from typing import Callable, List, Optional

Respond = Callable[[socket.socket, "HostileServer"], None]


class HostileServer:
    def __init__(self, respond: Respond) -> None:
        self.respond = respond
        self.stopped = threading.Event()
        self.requests: List[bytes] = []
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind(("127.0.0.1", 0))
        self._listener.listen(16)
        self.port = self._listener.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/v1"
        self._threads: List[threading.Thread] = []

    def __enter__(self) -> HostileServer:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stopped.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        for thread in self._threads:
            thread.join(10)

    def _accept(self) -> None:
        while not self.stopped.is_set():
            try:
                self._listener.settimeout(0.2)
                conn, _ = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads.append(thread)

    def _serve(self, conn: socket.socket) -> None:
        try:
            conn.settimeout(10)
            request = _read_request(conn)
            if request is None:
                return
            self.requests.append(request)
            conn.settimeout(30)
            self.respond(conn, self)
        except OSError:
            pass  # the client went away: what a hostile test expects
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def drip(self, conn: socket.socket, data: bytes, every: float) -> None:
        """Sends `data` one byte at a time, `every` seconds apart, until done or stopped."""
        for index in range(len(data)):
            if self.stopped.wait(every):
                return
            conn.sendall(data[index : index + 1])


def _read_request(conn: socket.socket) -> Optional[bytes]:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def answer(
    status: int, body: bytes, headers: Optional[List[str]] = None, content_type: str = "application/json"
) -> bytes:
    """A complete HTTP/1.1 answer with a Content-Length."""
    lines = [f"HTTP/1.1 {status} Hostile", f"Content-Type: {content_type}", f"Content-Length: {len(body)}"]
    lines += headers or []
    lines.append("Connection: close")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def gzip_of_zeros(mib: int) -> bytes:
    """A gzip member inflating to `mib` MiB of zero bytes, built fast: after a full flush, deflate's
    output for each further MiB of zeros is the same bytes, so one segment is repeated."""
    block = bytes(1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    segment = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    assert first == segment
    end = compressor.flush()
    crc = 0
    for _ in range(mib):
        crc = zlib.crc32(block, crc)
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"
    trailer = crc.to_bytes(4, "little") + ((mib << 20) & 0xFFFFFFFF).to_bytes(4, "little")
    return header + segment * mib + end + trailer


def send_slowly(conn: socket.socket, data: bytes, server: HostileServer, piece: int = 65536) -> None:
    """Sends `data` in pieces, stopping when the server stops (a client that stops reading blocks us)."""
    for start in range(0, len(data), piece):
        if server.stopped.is_set():
            return
        conn.sendall(data[start : start + piece])
