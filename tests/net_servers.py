"""Loopback servers for tests/test_network.py, standard library only: a forwarding HTTP proxy (absolute-form
requests and CONNECT tunnels) that counts what passed through it, a small chat server (plain or TLS, with
a Set-Cookie on every answer, recording the headers it was sent, optionally dripping its body), and a test
certificate authority made with the `openssl` command."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

MODEL = "meganova-ai/manta-flash-1.0"


def chat_body(content: str) -> bytes:
    return json.dumps(
        {
            "id": "chatcmpl-net",
            "object": "chat.completion",
            "created": 1756684800,
            "model": MODEL,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6},
        }
    ).encode()


def read_head(rfile: socket.SocketIO | object) -> Optional[Tuple[str, Dict[str, str]]]:
    """The request line and the headers (lowercase names), or None at the end of the connection."""
    line = rfile.readline()  # type: ignore[attr-defined]
    if not line:
        return None
    headers: Dict[str, str] = {}
    while True:
        raw = rfile.readline()  # type: ignore[attr-defined]
        if raw in (b"\r\n", b"\n", b""):
            break
        name, _, value = raw.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return line.decode("latin-1").strip(), headers


class _Listener:
    """A thread accepting connections on loopback, a thread per connection."""

    def __init__(self, wrap: Optional[ssl.SSLContext] = None) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._wrap = wrap
        self._stopped = False
        self._lock = threading.Lock()
        self._open: List[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            threading.Thread(target=self._run, args=(conn,), daemon=True).start()

    def _run(self, conn: socket.socket) -> None:
        with self._lock:
            self._open.append(conn)
        try:
            if self._wrap is not None:
                conn = self._wrap.wrap_socket(conn, server_side=True)
            self.serve(conn)
        except (OSError, ValueError):
            pass
        finally:
            with contextlib.suppress(OSError):
                conn.close()

    def serve(self, conn: socket.socket) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        self._stopped = True
        self._sock.close()
        with self._lock:
            for conn in self._open:
                with contextlib.suppress(OSError):
                    conn.shutdown(socket.SHUT_RDWR)


class ForwardingProxy(_Listener):
    """An HTTP proxy: `GET http://host:port/path` is forwarded (one request per connection), `CONNECT
    host:port` is tunnelled. `forwarded` and `tunnels` list what passed through it."""

    def __init__(self) -> None:
        self.forwarded: List[str] = []
        self.tunnels: List[str] = []
        super().__init__()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self, conn: socket.socket) -> None:
        rfile = conn.makefile("rb")
        head = read_head(rfile)
        if head is None:
            return
        line, headers = head
        method, target, _ = line.split(" ", 2)
        if method == "CONNECT":
            host, _, port = target.rpartition(":")
            upstream = socket.create_connection((host, int(port)))
            with self._lock:
                self.tunnels.append(target)
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            # The client sends nothing more before this answer: nothing is left in rfile's buffer.
            self._pipe(conn, upstream)
            return
        if not target.startswith("http://"):
            conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        with self._lock:
            self.forwarded.append(f"{method} {target}")
        rest = target[len("http://") :]
        hostport, slash, path = rest.partition("/")
        host, _, port = hostport.rpartition(":")
        body = rfile.read(int(headers.get("content-length", "0") or 0))
        lines = [f"{method} {slash}{path} HTTP/1.1"]
        for name, value in headers.items():
            if not name.startswith("proxy-") and name != "connection":
                lines.append(f"{name}: {value}")
        lines.append("connection: close")
        upstream = socket.create_connection((host, int(port)))
        upstream.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        self._relay(upstream, conn)

    @staticmethod
    def _relay(source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                sink.sendall(data)
        finally:
            source.close()

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        def up() -> None:
            with contextlib.suppress(OSError):
                self._relay(client, upstream)
            with contextlib.suppress(OSError):
                upstream.shutdown(socket.SHUT_WR)

        thread = threading.Thread(target=up, daemon=True)
        thread.start()
        with contextlib.suppress(OSError):
            self._relay(upstream, client)


class ChatServer(_Listener):
    """Answers every request with a chat completion (keep-alive), a new `Set-Cookie` each time; records
    the headers of every request in `seen`. `drip`: the body is sent a few bytes at a time, with
    `pause()` between the pieces."""

    def __init__(
        self,
        tls: Optional[ssl.SSLContext] = None,
        content: str = "Hello from the loopback.",
        drip: Optional[Callable[[], None]] = None,
    ) -> None:
        self.seen: List[Dict[str, str]] = []
        self.aborted = 0
        self._content = content
        self._drip = drip
        self._cookie = 0
        super().__init__(wrap=tls)

    def base_url(self, scheme: str = "http") -> str:
        return f"{scheme}://127.0.0.1:{self.port}/v1"

    def serve(self, conn: socket.socket) -> None:
        rfile = conn.makefile("rb")
        while True:
            head = read_head(rfile)
            if head is None:
                return
            _, headers = head
            rfile.read(int(headers.get("content-length", "0") or 0))
            with self._lock:
                self.seen.append(headers)
                self._cookie += 1
                cookie = self._cookie
            body = chat_body(self._content)
            conn.sendall(
                (
                    "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n"
                    f"content-length: {len(body)}\r\nx-request-id: req-{cookie}\r\n"
                    f"set-cookie: session{cookie}={'x' * 40}; Path=/\r\n\r\n"
                ).encode()
            )
            if self._drip is None:
                conn.sendall(body)
                continue
            try:
                for start in range(0, len(body), 16):
                    conn.sendall(body[start : start + 16])
                    self._drip()
            except OSError:
                with self._lock:
                    self.aborted += 1  # the client went away mid-body
                raise


class CertAuthority:
    """A certificate authority and a server certificate for 127.0.0.1 and localhost, made with openssl."""

    def __init__(self, folder: Path, name: str = "meganova test CA") -> None:
        self.ca = folder / "ca.pem"
        self.cert = folder / "server.pem"
        self.key = folder / "server.key"
        ca_key = folder / "ca.key"
        ext = folder / "server.ext"
        ext.write_text(
            "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"
            "extendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n"
            "subjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid,issuer\n"
        )
        ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        run = [
            ["req", "-x509", *ec, "-keyout", ca_key, "-out", self.ca, "-days", "3", "-subj", f"/CN={name}",
             "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"],
            ["req", *ec, "-keyout", self.key, "-out", folder / "server.csr", "-subj", "/CN=127.0.0.1"],
            ["x509", "-req", "-in", folder / "server.csr", "-CA", self.ca, "-CAkey", ca_key, "-CAcreateserial",
             "-out", self.cert, "-days", "3", "-extfile", ext],
        ]  # fmt: skip
        for args in run:
            subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, env={**os.environ})

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(str(self.cert), str(self.key))
        return context
