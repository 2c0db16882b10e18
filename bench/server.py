"""A lean loopback HTTP/1.1 server for the benchmarks: fixed chat answers, fast enough not to matter.

`POST .../chat/completions` answers a fixed `ChatResponse` (`CONTENT`), or, when the JSON body has
`"stream": true`, an SSE stream of `max_tokens` chunks of `CHUNK_TEXT`, one chunk with finish_reason
"stop" and `data: [DONE]`. Every event is its own chunked-encoding frame (as uvicorn sends them); the
whole answer is pre-encoded once per length and written in one `transport.write`.

Admin: `GET /__stats` answers `{accepted, connections, requests, cpu, pid}` since the last
`POST /__reset` (which answers the same, just after resetting): TCP connections accepted, distinct
connections that carried API requests (a connection reused from before the reset counts once), API
requests, the server's CPU seconds. Admin connections are not counted.

Run `python server.py [--cpu N]`: prints `PORT <n>`, serves until stdin closes. `BenchServer` does that
from the benchmark process.
"""

from __future__ import annotations

import argparse
import asyncio
import http.client
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

MODEL = "meganova-ai/manta-flash-1.0"
CONTENT = "Hello! This is the benchmark server's fixed answer, the same for every request."
CHUNK_TEXT = "tok "
_CREATED = 1700000000
_HEAD = {"id": "chatcmpl-bench", "created": _CREATED, "model": MODEL}


def _json(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _response(status: str, content_type: str, body: bytes, extra: str = "") -> bytes:
    head = (
        f"HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {len(body)}\r\n"
        f"x-request-id: req-bench{extra}\r\n\r\n"
    )
    return head.encode() + body


def chat_response_body() -> bytes:
    """The fixed `ChatResponse` JSON."""
    message = {"role": "assistant", "content": CONTENT}
    return _json(
        {
            **_HEAD,
            "object": "chat.completion",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 9, "completion_tokens": 16, "total_tokens": 25},
        }
    )


def _event(delta: Dict[str, str], finish_reason: Optional[str]) -> bytes:
    choice = {"index": 0, "delta": delta, "finish_reason": finish_reason}
    return b"data: " + _json({**_HEAD, "object": "chat.completion.chunk", "choices": [choice]}) + b"\n\n"


def _frame(payload: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(payload), payload)


_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\ncache-control: no-cache\r\n"
    b"transfer-encoding: chunked\r\nx-request-id: req-bench-stream\r\n\r\n"
)
_TOKEN_FRAME = _frame(_event({"content": CHUNK_TEXT}, None))
_STREAM_TAIL = _frame(_event({}, "stop")) + _frame(b"data: [DONE]\n\n") + b"0\r\n\r\n"
_CREATE_ANSWER = _response("200 OK", "application/json", chat_response_body())
_NOT_FOUND = _response("404 Not Found", "application/json", b'{"error":{"message":"not found"}}')
_BAD_REQUEST = _response("400 Bad Request", "application/json", b'{"error":{"message":"bad request"}}')


class Stats:
    """The counters behind `/__stats`."""

    def __init__(self) -> None:
        self.epoch = 0
        self.accepted = 0
        self.connections = 0
        self.requests = 0

    def reset(self) -> None:
        """Start counting anew; connections still open count again when they carry a request."""
        self.epoch += 1
        self.accepted = self.connections = self.requests = 0

    def as_json(self) -> bytes:
        """The counters and the server's CPU seconds so far."""
        return _json(
            {
                "accepted": self.accepted,
                "connections": self.connections,
                "requests": self.requests,
                "cpu": time.process_time(),
                "pid": os.getpid(),
            }
        )


class StreamBodies:
    """Pre-encoded stream answers, one per length."""

    def __init__(self) -> None:
        self._cache: Dict[int, bytes] = {}

    def get(self, n: int) -> bytes:
        """The whole HTTP answer for a stream of `n` chunks."""
        body = self._cache.get(n)
        if body is None:
            body = self._cache[n] = _STREAM_HEAD + _TOKEN_FRAME * n + _STREAM_TAIL
        return body


class ChatProtocol(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection: requests with Content-Length bodies, answered in order."""

    def __init__(self, stats: Stats, bodies: StreamBodies) -> None:
        self.stats = stats
        self.bodies = bodies
        self.buffer = bytearray()
        self.epoch = -1
        self.accepted_epoch = -1
        self.admin = False
        self.transport: Optional[asyncio.Transport] = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.stats.accepted += 1
        self.accepted_epoch = self.stats.epoch

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.transport is not None and self._handle_one():
            pass

    def connection_lost(self, exc: Optional[Exception]) -> None:
        self.transport = None

    def _handle_one(self) -> bool:
        buffer = self.buffer
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            return False
        lines = bytes(buffer[:end]).split(b"\r\n")
        length, close = _header_facts(lines[1:])
        total = end + 4 + length
        if len(buffer) < total:
            return False
        body = bytes(buffer[end + 4 : total])
        del buffer[:total]
        method, _, rest = lines[0].partition(b" ")
        path = rest.partition(b" ")[0]
        assert self.transport is not None
        self.transport.write(self._answer(method, path, body))
        if close:
            self.transport.close()
            self.transport = None
        return True

    def _answer(self, method: bytes, path: bytes, body: bytes) -> bytes:
        if path.endswith(b"/chat/completions") and method == b"POST":
            return self._chat(body)
        if path in (b"/__stats", b"/__reset"):
            self._not_counted()
            if method == b"POST" and path == b"/__reset":
                self.stats.reset()
            return _response("200 OK", "application/json", self.stats.as_json())
        return _NOT_FOUND

    def _not_counted(self) -> None:
        """An admin connection: not one of the connections the benchmark is counting."""
        if not self.admin:
            self.admin = True
            if self.accepted_epoch == self.stats.epoch:
                self.stats.accepted -= 1

    def _chat(self, body: bytes) -> bytes:
        stats = self.stats
        stats.requests += 1
        if self.epoch != stats.epoch:
            self.epoch = stats.epoch
            stats.connections += 1
        try:
            request = json.loads(body)
        except ValueError:
            return _BAD_REQUEST
        if request.get("stream"):
            return self.bodies.get(int(request.get("max_tokens") or 16))
        return _CREATE_ANSWER


def _header_facts(lines: List[bytes]) -> Tuple[int, bool]:
    """Content-Length and whether the client asked to close, from the header lines."""
    length = 0
    close = False
    for line in lines:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            close = value.strip().lower() == b"close"
    return length, close


async def serve(port: int = 0) -> None:
    """Serve on 127.0.0.1 until cancelled; prints `PORT <n>` once listening."""
    loop = asyncio.get_running_loop()
    stats = Stats()
    bodies = StreamBodies()
    server = await loop.create_server(lambda: ChatProtocol(stats, bodies), "127.0.0.1", port, backlog=1024)
    print(f"PORT {server.sockets[0].getsockname()[1]}", flush=True)
    async with server:
        await server.serve_forever()


def _exit_when_stdin_closes() -> None:
    sys.stdin.read()
    os._exit(0)


def main() -> None:
    """`python server.py [--port N] [--cpu N]`."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--cpu", type=int, default=None, help="pin the server to this CPU")
    args = parser.parse_args()
    if args.cpu is not None:
        os.sched_setaffinity(0, {args.cpu})
    threading.Thread(target=_exit_when_stdin_closes, daemon=True).start()
    asyncio.run(serve(args.port))


class BenchServer:
    """The server in a child process: start, `stats()`, `reset()`, `stop()`."""

    def __init__(self, cpu: Optional[int] = None) -> None:
        command = [sys.executable, str(Path(__file__).resolve())]
        if cpu is not None:
            command += ["--cpu", str(cpu)]
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().decode().strip()
        if not line.startswith("PORT "):
            self.stop()
            raise RuntimeError(f"The bench server did not start (it printed {line!r}).")
        self.port = int(line.split()[1])
        self.base_url = f"http://127.0.0.1:{self.port}/v1"

    def _admin(self, method: str, path: str) -> Dict[str, Any]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(method, path, headers={"Connection": "close"})
            answer: Dict[str, Any] = json.loads(connection.getresponse().read())
            return answer
        finally:
            connection.close()

    def stats(self) -> Dict[str, Any]:
        """`GET /__stats`."""
        return self._admin("GET", "/__stats")

    def reset(self) -> Dict[str, Any]:
        """`POST /__reset`: the stats just after it (the CPU seconds to subtract later)."""
        return self._admin("POST", "/__reset")

    def stop(self) -> None:
        """Close its stdin (it exits), wait; terminate it if it lingers."""
        if self.process.stdin is not None:
            self.process.stdin.close()
        try:
            self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.process.terminate()
            self.process.wait(timeout=5)


if __name__ == "__main__":
    main()
