"""`python -m meganova.testing [--host H] [--port P] [--api-key K] [--model ID]...`: the local server, in
the foreground.

The first line printed is the base URL (`http://127.0.0.1:8080/v1`), the second the API key.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from types import FrameType
from typing import List, Optional

from ._api import CHAT_MODELS
from ._server import MockServer


def _interrupt(signum: int, frame: Optional[FrameType]) -> None:
    raise KeyboardInterrupt


def main(argv: Optional[List[str]] = None) -> int:
    """Runs the server until Ctrl+C or SIGTERM; the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m meganova.testing", description="A local MegaNova API server (for tests and demos)."
    )
    parser.add_argument("--host", default="127.0.0.1", help="the address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080, help="the port; 0 picks a free one (default 8080)")
    parser.add_argument("--api-key", default="test", help="the key clients must send (default 'test')")
    parser.add_argument(
        "--model",
        action="append",
        dest="models",
        metavar="ID",
        help="a model id chat answers besides the listed ones (repeatable); '*' answers any id",
    )
    args = parser.parse_args(argv)
    chat_models: Optional[List[str]] = list(CHAT_MODELS) + list(args.models or [])
    if "*" in (args.models or []):
        chat_models = None
    try:
        server = MockServer(args.host, args.port, args.api_key, chat_models=chat_models)
    except OSError as problem:
        print(f"cannot listen on {args.host}:{args.port}: {problem}", file=sys.stderr)
        return 1
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, _interrupt)
    server.start()
    print(server.url, flush=True)
    print(f"API key: {args.api_key}", flush=True)
    print("Serving the MegaNova API; Ctrl+C to stop.", file=sys.stderr, flush=True)
    forever = threading.Event()
    try:
        while not forever.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
