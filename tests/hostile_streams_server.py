"""A loopback HTTP/1.1 server for hostile stream tests: each request is answered by a plain function that
writes exactly the bytes it chooses to the socket (pings forever, silence, a 40 MiB line, ...).

    with HostileServer(handler) as server:
        MegaNova(api_key=KEY, base_url=server.url)

`handler(conn, request)` gets the socket and the request (headers as bytes, body) and returns True to keep
the connection for the next request. A handler that writes forever stops when the client goes away (the
write fails) or when the server stops (`server.stopping` is set).
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from typing import Any, Callable, Dict, List, Optional

MODEL = "meganova-ai/manta-flash-1.0"
REQUEST_ID = "req_hostile"


class Request:
    """What the client sent: the request line and headers (lower-cased names), and the body."""

    def __init__(self, head: bytes, body: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n")
        self.line = lines[0]
        self.headers: Dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            self.headers[name.strip().lower()] = value.strip()
        self.body = body

    @property
    def api_key(self) -> str:
        return self.headers.get("authorization", "").replace("Bearer ", "", 1)


Handler = Callable[[socket.socket, Request], bool]


def head(request_id: str = REQUEST_ID, content_type: str = "text/event-stream") -> bytes:
    """The status line and headers of a chunked 200 answer."""
    return (
        f"HTTP/1.1 200 OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n"
        f"x-request-id: {request_id}\r\n\r\n"
    ).encode()


def chunk(data: bytes) -> bytes:
    """`data` framed as one HTTP chunk."""
    return b"%x\r\n%s\r\n" % (len(data), data)


END = b"0\r\n\r\n"
"""The end of a chunked body."""
DONE = b"data: [DONE]\n\n"
PING = b": ping\n\n"


def event(content: str, finish: Optional[str] = None) -> bytes:
    """One chat chunk event."""
    body = {
        "id": "chatcmpl-h",
        "object": "chat.completion.chunk",
        "created": 1764000000,
        "model": MODEL,
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": finish}],
    }
    return b"data: " + json.dumps(body).encode() + b"\n\n"


class HostileServer:
    """A thread per connection; counts connections and requests."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.stopping = threading.Event()
        self.connections = 0
        self.requests: List[Request] = []
        self.errors: List[BaseException] = []
        self._sock = socket.create_server(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self._conns: List[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._accept, name="hostile-accept", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._sock.getsockname()[1]}/v1"

    def __enter__(self) -> HostileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def close(self) -> None:
        self.stopping.set()
        self._thread.join(5)
        self._sock.close()
        with self._lock:
            for conn in self._conns:
                with contextlib.suppress(OSError):
                    conn.close()

    def wait(self, seconds: float) -> None:
        """Sleeps `seconds` unless the server stops first (for handlers that drip or stay silent)."""
        self.stopping.wait(seconds)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.connections += 1
                self._conns.append(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        try:
            while not self.stopping.is_set():
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head_bytes, _, buffer = buffer.partition(b"\r\n\r\n")
                request = Request(head_bytes, b"")
                length = int(request.headers.get("content-length", "0"))
                while len(buffer) < length:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                request.body, buffer = buffer[:length], buffer[length:]
                with self._lock:
                    self.requests.append(request)
                if not self.handler(conn, request):
                    return
        except OSError:  # the client went away
            pass
        except BaseException as exc:  # a broken handler: the test looks at `errors`
            self.errors.append(exc)
        finally:
            with self._lock:
                if conn in self._conns:
                    self._conns.remove(conn)
            with contextlib.suppress(OSError):
                conn.close()


def send_forever(server: HostileServer, conn: socket.socket, data: bytes, every: float = 0.05) -> bool:
    """Writes `data` again and again until the client goes away or the server stops; never keeps the
    connection."""
    while not server.stopping.is_set():
        conn.sendall(data)
        time.sleep(every)
    return False
