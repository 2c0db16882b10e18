"""`MockServer`: the sockets, threads and HTTP/1.1 keep-alive loop; answers come from `_api` and `_faults`."""

from __future__ import annotations

import collections
import contextlib
import json
import selectors
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
from email.utils import formatdate
from types import TracebackType
from typing import IO, Any, Deque, Dict, FrozenSet, Iterable, List, Mapping, Optional, Sequence, Set, Tuple, Type, cast

from . import _agents, _answers, _api, _routes
from ._faults import Body, Script, make_script
from ._http import Answer, BadRequest, RecordedRequest, StreamItem, read_request, record, status_line
from ._state import ApiState

__all__ = ["MockServer"]

_NO_BODY_STATUSES = frozenset((204, 304))
_STOP_JOIN_SECONDS = 2.0


class _Drop(Exception):
    """Close the connection now (a scripted drop, or the server is stopping)."""


class _Date:
    """The `Date` header value, formatted at most once a second."""

    def __init__(self) -> None:
        self._second = -1
        self._text = ""

    def now(self) -> str:
        second = int(time.time())
        if second != self._second:
            self._text = formatdate(second, usegmt=True)
            self._second = second
        return self._text


class _Handler(socketserver.StreamRequestHandler):
    """One TCP connection: hands it to the `MockServer`'s keep-alive loop."""

    disable_nagle_algorithm = True

    def handle(self) -> None:
        server = cast("_TCPServer", self.server)
        server.mock._serve_connection(self.connection, cast("IO[bytes]", self.rfile))


class _TCPServer(socketserver.ThreadingMixIn, socketserver.TCPServer):
    """A thread per connection (daemon threads), a deep accept queue, and a hook where sockets are accepted."""

    daemon_threads = True
    block_on_close = False
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, address: Tuple[str, int], mock: MockServer) -> None:
        self.mock = mock
        if ":" in address[0]:
            self.address_family = socket.AF_INET6
        super().__init__(address, _Handler)

    def get_request(self) -> Tuple[socket.socket, Any]:
        sock, address = self.socket.accept()
        self.mock._accepted(sock)
        return sock, address

    def shutdown_request(self, request: Any) -> None:
        self.mock._forget(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away: not worth a traceback
        super().handle_error(request, client_address)


class MockServer:
    """A local MegaNova API server for tests and demos: every operation of the spec, plus scripted faults.

    Standard library only. Runs in background threads; use it as a context manager::

        with MockServer() as server:
            client = MegaNova(api_key=server.api_key, base_url=server.url)
            server.enqueue(status=429, headers={"Retry-After": "0"})
            ...
            assert server.requests[-1].path == "/v1/chat/completions"

    Answers are deterministic: Luna's reply depends only on the last user message; offered tools are
    called when the user's words match them (or `tool_choice` forces one), `response_format` gets JSON
    valid against its schema, a system prompt that names a character makes the answer speak as it, and
    `logprobs: true` adds logprobs (the rules: the README's section on the local server). A queued answer
    (`enqueue`) is used by exactly one request, in order, before the normal handling (and before the
    key is checked).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        api_key: Optional[str] = "test",
        agent_keys: Optional[Iterable[str]] = (_agents.AGENT_KEY,),
        chat_models: Optional[Iterable[str]] = _api.CHAT_MODELS,
    ) -> None:
        """Binds the listening socket right away (so `port` and `url` are known); `start()` serves it.

        `api_key=None` turns the `Authorization` check off. `agent_keys` are the Studio agent keys
        `/agents/v1/{agent_key}/...` accepts (None: any `agent_...` key). `chat_models` are the model
        ids `/v1/chat/completions` answers (by default `meganova.testing.CHAT_MODELS`: the models
        `/v1/models` lists); another gets 404 `model_not_found`; None: any model id.
        """
        self.api_key = api_key
        """The key requests must send as `Authorization: Bearer <key>` (None: any or none)."""
        self.agent_keys: Optional[FrozenSet[str]] = frozenset(agent_keys) if agent_keys is not None else None
        """The Studio agent keys the server knows (`agent_test` by default; None: any `agent_...`)."""
        self.chat_models: Optional[FrozenSet[str]] = frozenset(chat_models) if chat_models is not None else None
        """The model ids chat completions answer (None: any); another gets 404 `model_not_found`."""
        self._state = ApiState()
        self._lock = threading.Lock()
        self._scripts: Deque[Script] = collections.deque()
        self._requests: List[RecordedRequest] = []
        self._sockets: Dict[socket.socket, int] = {}
        self._threads: Set[threading.Thread] = set()
        self._connections_accepted = 0
        self._counter = 0
        self._stopping = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._stopped = False
        self._date = _Date()
        self._server = _TCPServer((host, port), self)
        self._wake_reader, self._wake_writer = socket.socketpair()
        self.host = host
        """The address it listens on."""
        self.port: int = self._server.server_address[1]
        """The port it listens on (the one the system chose when created with `port=0`)."""

    # --- life cycle ---------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The API's base URL, `/v1` included: `http://127.0.0.1:<port>/v1`."""
        host = self.host
        if host in ("", "0.0.0.0"):
            host = "127.0.0.1"
        elif host == "::":
            host = "::1"
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}{_routes.BASE_PATH}"

    @property
    def root_url(self) -> str:
        """The server's root, without `/v1`: `http://127.0.0.1:<port>`. The serverless catalogue
        (`/api/v1/serverless/models/filter`) and the Studio agents (`/agents/v1/...`) live there."""
        return self.url[: -len(_routes.BASE_PATH)]

    def start(self) -> MockServer:
        """Starts serving in a background thread (no-op when already started); returns the server."""
        with self._lock:
            if self._stopped:
                raise RuntimeError("this MockServer was stopped; create a new one")
            if self._thread is not None:
                return self
            self._thread = threading.Thread(target=self._accept_loop, name=f"MockServer:{self.port}", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        """Stops serving and closes every open connection (idempotent; waits at most about 2 s)."""
        with self._lock:
            if self._stopped:
                return
            self._stopped = True
            thread = self._thread
        self._stopping.set()
        if thread is not None:
            with contextlib.suppress(OSError):
                self._wake_writer.send(b"x")
            thread.join()
        self._server.server_close()
        self._wake_reader.close()
        self._wake_writer.close()
        with self._lock:
            sockets = list(self._sockets)
            threads = list(self._threads)
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        deadline = time.monotonic() + _STOP_JOIN_SECONDS
        for worker in threads:
            worker.join(max(0.0, deadline - time.monotonic()))

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "stopped" if self._stopped else "running" if self._thread is not None else "not started"
        return f"MockServer({self.url!r}, {state})"

    # --- scripting ----------------------------------------------------------------------------

    def enqueue(
        self,
        status: Optional[int] = None,
        body: Body = None,
        *,
        headers: Optional[Mapping[str, str]] = None,
        content_type: Optional[str] = None,
        fault: Optional[str] = None,
        stream_events: Optional[Sequence[StreamItem]] = None,
        delay: float = 0.0,
        chunk_delay: float = 0.0,
        drop_after_bytes: Optional[int] = None,
        drop_after_events: Optional[int] = None,
        error_after_events: Optional[int] = None,
        error: Optional[Mapping[str, Any]] = None,
        done: bool = True,
        sse_comments: bool = False,
        line_ending: str = "\n",
        size: int = 4 * 1024 * 1024,
        times: int = 1,
    ) -> None:
        """Queues the answer to the next request (FIFO; each is used by exactly one request).

        What is sent:
        - `status` and/or `body` (dict/list as JSON, str as text, bytes as they are), `content_type`:
          a scripted answer. A status >= 400 without a body gets the standard error body.
        - `stream_events=[...]`: a 200 (or `status`) chunked `text/event-stream`; a dict item is sent as
          `data: <json>`, a str item is the text of one event (`"data: [DONE]"`, `": ping"`), each
          followed by a blank line; bytes are sent exactly as given. Nothing is added (no `[DONE]`).
        - `fault=`: one of `FAULTS` (see `meganova.testing.FAULTS`).
        - none of these: the API's normal answer, changed by the options below.

        Options (combine freely with the above): `headers` added to (or replacing) the answer's headers;
        `delay` seconds before anything is sent; `drop_after_bytes=N` closes the connection after N
        bytes of the body (chunk framing included); for streams, `chunk_delay` seconds between events,
        `drop_after_events=N` closes the connection after N events, `error_after_events=N` sends
        `data: {"error": ...}` (defaults updated with `error`) after N events and ends the stream,
        `done=False` ends the stream after the finish_reason chunk, `sse_comments=True` sends `: ping`
        before each event, `line_ending="\\r\\n"`. `size` is the content length for
        `fault="large_response"`. `times=N` queues N copies.
        """
        if isinstance(times, bool) or not isinstance(times, int) or times < 1:
            raise ValueError(f"times must be an integer >= 1, not {times!r}")
        script = make_script(
            status,
            body,
            headers=headers,
            content_type=content_type,
            fault=fault,
            stream_events=stream_events,
            delay=delay,
            chunk_delay=chunk_delay,
            drop_after_bytes=drop_after_bytes,
            drop_after_events=drop_after_events,
            error_after_events=error_after_events,
            error=error,
            done=done,
            sse_comments=sse_comments,
            line_ending=line_ending,
            size=size,
        )
        with self._lock:
            self._scripts.extend([script] * times)

    @property
    def queued(self) -> int:
        """How many queued answers are still waiting for a request."""
        with self._lock:
            return len(self._scripts)

    @property
    def requests(self) -> List[RecordedRequest]:
        """A copy of the requests received so far (since `reset()`), oldest first."""
        with self._lock:
            return list(self._requests)

    @property
    def connections_accepted(self) -> int:
        """How many TCP connections the server accepted (since `reset()`)."""
        with self._lock:
            return self._connections_accepted

    @property
    def open_connections(self) -> int:
        """How many client connections are open right now."""
        with self._lock:
            return len(self._sockets)

    def reset(self) -> None:
        """Forgets the queued answers, the recorded requests, the accepted-connection count, and what the
        API remembers (video jobs, agent conversations and pending tool calls)."""
        with self._lock:
            self._scripts.clear()
            self._requests.clear()
            self._connections_accepted = 0
        self._state.clear()

    # --- connections (called from the server's threads) ---------------------------------------

    def _accept_loop(self) -> None:
        """Accepts connections until `stop()` wakes it (no polling: idle costs nothing, stop is instant)."""
        server = self._server
        with selectors.DefaultSelector() as selector:
            selector.register(server.socket, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._wake_reader:
                        return
                    try:
                        sock, address = server.get_request()
                    except OSError:
                        continue
                    try:
                        server.process_request(sock, address)
                    except Exception:
                        server.handle_error(sock, address)
                        server.shutdown_request(sock)

    def _accepted(self, sock: socket.socket) -> None:
        with self._lock:
            self._connections_accepted += 1
            self._sockets[sock] = self._connections_accepted

    def _forget(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.pop(sock, None)

    def _serve_connection(self, sock: socket.socket, rfile: IO[bytes]) -> None:
        """The keep-alive loop of one connection: read a request, record it, answer it, again."""
        current = threading.current_thread()
        with self._lock:
            connection_id = self._sockets.get(sock, 0)
            self._threads.add(current)

        def send_continue() -> None:
            sock.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")

        try:
            while not self._stopping.is_set():
                try:
                    parsed = read_request(rfile, send_continue)
                except BadRequest as problem:
                    answer = _answers.error_answer(400, f"Malformed HTTP request: {problem}", code="bad_request")
                    head, _ = self._head(answer, None, "req_invalid", False, False)
                    sock.sendall(head + answer.body)
                    return
                if parsed is None:
                    return
                method, target, version, headers, body = parsed
                request = record(method, target, version, headers, body, connection_id)
                connection = headers.get("connection", "").lower()
                keep_alive = "close" not in connection and (version != "HTTP/1.0" or "keep-alive" in connection)
                with self._lock:
                    self._requests.append(request)
                    script = self._scripts.popleft() if self._scripts else None
                    self._counter += 1
                    answer_id = f"{self._counter:012x}"
                try:
                    keep_alive = self._respond(sock, rfile, request, script, answer_id, keep_alive)
                except _Drop:
                    with contextlib.suppress(OSError):
                        sock.shutdown(socket.SHUT_RDWR)
                    return
                if not keep_alive:
                    return
        except OSError:
            return  # the client closed, reset, or the server is stopping
        finally:
            with self._lock:
                self._threads.discard(current)

    def _sleep(self, seconds: float) -> None:
        if seconds > 0 and self._stopping.wait(seconds):
            raise _Drop()

    def _respond(
        self,
        sock: socket.socket,
        rfile: IO[bytes],
        request: RecordedRequest,
        script: Optional[Script],
        answer_id: str,
        keep_alive: bool,
    ) -> bool:
        """Sends the answer to one request; whether the connection stays open."""
        if script is not None:
            self._sleep(script.delay)
            if script.closes_early:
                if script.resets:
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                    rfile.close()
                    sock.close()
                    return False
                raise _Drop()
        answer: Optional[Answer] = None
        if script is not None:
            answer = script.answer(request, answer_id)
        if answer is None:
            try:
                answer = _routes.handle(
                    request, self.api_key, answer_id, self._state, self.agent_keys, self.chat_models
                )
            except Exception:  # a bug here must not kill the connection silently
                traceback.print_exc()
                answer = _answers.error_answer(500, "The mock server failed; see its stderr", code="internal_error")
        streaming = answer.events is not None
        head, keep_alive = self._head(answer, script, "req_" + answer_id, keep_alive, streaming)
        budget = script.drop_after_bytes if script is not None else None
        if request.method == "HEAD" or answer.status in _NO_BODY_STATUSES:
            sock.sendall(head)
        elif not streaming:
            if budget is None:
                sock.sendall(head + answer.body)
            else:
                sock.sendall(head + answer.body[:budget])
                raise _Drop()
        else:
            sock.sendall(head)
            self._stream(sock, answer, script, budget)
        return keep_alive

    def _head(
        self, answer: Answer, script: Optional[Script], request_id: str, keep_alive: bool, streaming: bool
    ) -> Tuple[bytes, bool]:
        """The status line and headers, and whether the connection stays open after the answer."""
        headers: List[Tuple[str, str]] = [("Date", self._date.now()), ("Server", "meganova-mock")]
        if answer.content_type:
            headers.append(("Content-Type", answer.content_type))
        if streaming:
            headers.append(("Transfer-Encoding", "chunked"))
            headers.append(("Cache-Control", "no-cache"))
        elif answer.status not in _NO_BODY_STATUSES:
            headers.append(("Content-Length", str(len(answer.body))))
        headers.append(("X-Request-Id", request_id))
        headers.extend(answer.headers)
        if script is not None and script.headers:
            replaced = {name.lower() for name, _ in script.headers}
            headers = [item for item in headers if item[0].lower() not in replaced]
            headers.extend(script.headers)
        connection = ""
        for name, value in headers:
            if name.lower() == "connection":
                connection = value.lower()
        if not keep_alive and not connection:
            headers.append(("Connection", "close"))
        elif "close" in connection:
            keep_alive = False
        lines = [status_line(answer.status)]
        lines.extend(f"{name}: {value}\r\n" for name, value in headers)
        lines.append("\r\n")
        return "".join(lines).encode("latin-1"), keep_alive

    def _stream(self, sock: socket.socket, answer: Answer, script: Optional[Script], budget: Optional[int]) -> None:
        """Sends the events of a chunked answer, with the script's stream options."""
        events = list(answer.events or ())
        eol = "\n"
        comments = False
        chunk_delay = 0.0
        drop_after: Optional[int] = None
        error_after: Optional[int] = None
        if script is not None:
            eol = script.line_ending
            comments = script.sse_comments
            chunk_delay = script.chunk_delay
            drop_after = script.drop_after_events
            error_after = script.error_after_events
            if not script.done and answer.epilogue:
                events = events[: -answer.epilogue]
        sender = _BudgetSender(sock, budget)
        sent = 0
        error_sent = False
        for item in events:
            if drop_after is not None and sent >= drop_after:
                raise _Drop()
            if error_after is not None and sent >= error_after:
                break
            if sent:
                self._sleep(chunk_delay)
            sender.send(_chunk(_encode_event(item, eol, comments)))
            sent += 1
        if error_after is not None and script is not None and (drop_after is None or drop_after > error_after):
            if sent:
                self._sleep(chunk_delay)
            sender.send(_chunk(_encode_event(script.error_event(), eol, comments)))
            error_sent = True
        if drop_after is not None and not error_sent:
            raise _Drop()
        sender.send(b"0\r\n\r\n")
        if budget is not None:
            raise _Drop()


class _BudgetSender:
    """Sends bytes; with a budget, sends only that many and then drops the connection."""

    __slots__ = ("_budget", "_sock")

    def __init__(self, sock: socket.socket, budget: Optional[int]) -> None:
        self._sock = sock
        self._budget = budget

    def send(self, data: bytes) -> None:
        if self._budget is None:
            self._sock.sendall(data)
            return
        if len(data) < self._budget:
            self._sock.sendall(data)
            self._budget -= len(data)
            return
        self._sock.sendall(data[: self._budget])
        raise _Drop()


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%b\r\n" % (len(data), data)


def _encode_event(item: StreamItem, eol: str, comments: bool) -> bytes:
    if isinstance(item, bytes):
        return item
    if isinstance(item, str):
        text = item
        if eol != "\n":
            text = text.replace("\r\n", "\n").replace("\n", eol)
    else:
        text = "data: " + json.dumps(item, separators=(",", ":"), ensure_ascii=False)
    if comments:
        text = ": ping" + eol + eol + text
    return (text + eol + eol).encode("utf-8")
