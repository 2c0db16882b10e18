"""The `meganova` command (also `python -m meganova`): chat with a character, list models, usage, balance,
show a character card. Standard library only (argparse).

    meganova chat [--model M] [--character card.png] [--session NAME] [--store FILE] [--user NAME]
    meganova models
    meganova usage [--days N]
    meganova balance
    meganova character show card.png [--json]

Every command reads MEGANOVA_API_KEY and MEGANOVA_BASE_URL; `--mock` runs it against a local
`meganova.testing` server started in the process instead (no key needed). An error is printed as one line
on stderr (`--debug`: with the traceback). Exit codes: 0 done; 1 an API or network error; 2 a usage error
(bad arguments, no API key); 3 a character card or session store that cannot be read; 130 interrupted
(Ctrl-C).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from datetime import datetime, timedelta, timezone
from typing import Any, Iterator, List, Optional, Sequence, TextIO

__all__ = ["EXIT_API_ERROR", "EXIT_CARD_ERROR", "EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "main"]

EXIT_OK = 0
EXIT_API_ERROR = 1
EXIT_USAGE = 2
EXIT_CARD_ERROR = 3
EXIT_INTERRUPTED = 130
DEFAULT_MODEL = "meganova-ai/manta-flash-1.0"
STORE_ENV = "MEGANOVA_SESSIONS"
"""The session store file `meganova chat --session` uses when `--store` is not given."""


class _UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # one line, exit code 2, as argparse does, without the usage dump
        raise _UsageError(message)


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    common.add_argument("--mock", action="store_true", help="use a local MegaNova server (no API key needed)")
    common.add_argument("--debug", action="store_true", help="print tracebacks")
    parser = _Parser(prog="meganova", description="The MegaNova AI Character Cloud from a shell.")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    chat = commands.add_parser("chat", help="chat with a model, or a character", parents=[common])
    chat.add_argument("--model", default=None, help=f"the model (default {DEFAULT_MODEL})")
    chat.add_argument("--character", default=None, help="a character card: .png, .charx or .json")
    chat.add_argument("--session", default=None, help="keep (and resume) the chat under this name")
    chat.add_argument(
        "--store", default=None, help=f"the session store file (default ${STORE_ENV} or ~/.meganova/sessions.db)"
    )
    chat.add_argument("--user", default="User", help="your name in the chat ({{user}})")
    chat.add_argument("--greeting", type=int, default=0, help="0: first_mes, i: alternate greeting i")
    commands.add_parser("models", help="list the models", parents=[common])
    usage = commands.add_parser("usage", help="usage over the last days", parents=[common])
    usage.add_argument("--days", type=int, default=30, help="how many days back (default 30)")
    commands.add_parser("balance", help="the account's balance", parents=[common])
    character = commands.add_parser("character", help="character cards", parents=[common])
    actions = character.add_subparsers(dest="action", metavar="ACTION", parser_class=_Parser)
    show = actions.add_parser("show", help="show a card", parents=[common])
    show.add_argument("card", help="a .png, .charx or .json card")
    show.add_argument("--json", action="store_true", help="print the card's JSON")
    return parser


@contextlib.contextmanager
def _client(args: argparse.Namespace) -> Iterator[Any]:
    from meganova import MegaNova

    if args.mock:
        from meganova.testing import MockServer

        with MockServer() as server, MegaNova(api_key=server.api_key, base_url=server.url) as client:
            yield client
        return
    if not os.environ.get("MEGANOVA_API_KEY"):
        raise _UsageError("MEGANOVA_API_KEY is not set (or use --mock for a local server)")
    with MegaNova() as client:
        yield client


def _models(args: argparse.Namespace, out: TextIO) -> int:
    with _client(args) as client:
        for model in client.models.list():
            out.write(f"{model.id}\t{model.context_length or ''}\n")
    return EXIT_OK


def _usage(args: argparse.Namespace, out: TextIO) -> int:
    if args.days < 1:
        raise _UsageError("--days must be 1 or more")
    to = datetime.now(timezone.utc)
    with _client(args) as client:
        summary = client.usage.summary(from_=to - timedelta(days=args.days), to=to)
        out.write(f"requests {summary.total_requests}\n")
        out.write(
            f"tokens {summary.total_tokens} (prompt {summary.prompt_tokens}, completion {summary.completion_tokens})\n"
        )
        out.write(f"cost {summary.cost} {summary.currency}\n")
    return EXIT_OK


def _balance(args: argparse.Namespace, out: TextIO) -> int:
    with _client(args) as client:
        balance = client.billing.get_balance()
        out.write(f"{balance.balance} {balance.currency}\n")
    return EXIT_OK


def _show(args: argparse.Namespace, out: TextIO) -> int:
    from meganova.characters import Character

    card = Character.load(args.card)
    if args.json:
        out.write(card.to_json() + "\n")
        return EXIT_OK
    book = card.character_book
    lines = [
        f"name: {card.name}" + (f" ({card.nickname})" if card.nickname else ""),
        f"spec: {card.spec} {card.spec_version or ''}".rstrip(),
        f"creator: {card.creator}" if card.creator else "",
        f"version: {card.character_version}" if card.character_version else "",
        f"tags: {', '.join(card.tags)}" if card.tags else "",
        f"greetings: {len(card.greetings())}",
        f"lorebook: {len(book.entries)} entries" if book is not None else "",
        f"assets: {len(card.assets)}" if card.assets else "",
        "",
        card.description.strip(),
        "",
        f"first message: {card.first_mes.strip()}" if card.first_mes.strip() else "",
    ]
    out.write("\n".join(line for line in lines if line is not None).strip("\n") + "\n")
    return EXIT_OK


def _store_path(args: argparse.Namespace) -> str:
    if args.store:
        return str(args.store)
    if os.environ.get(STORE_ENV):
        return os.environ[STORE_ENV]
    folder = os.path.join(os.path.expanduser("~"), ".meganova")
    os.makedirs(folder, exist_ok=True)
    return os.path.join(folder, "sessions.db")


def _chat(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    from meganova.characters import Character, SessionStore

    character = Character.load(args.character) if args.character else None
    store = SessionStore(_store_path(args)) if args.session else None
    interactive = stdin.isatty()
    try:
        with _client(args) as client:
            session = client.chat.session(
                character=character,
                model=args.model or (None if args.session else DEFAULT_MODEL),
                store=store,
                name=args.session,
                user=args.user,
                greeting=args.greeting if character is not None else None,
            )
            if session.model is None:
                session._core.model = DEFAULT_MODEL
            who = session.character.display_name if session.character is not None else "assistant"
            user = session.user
            for message in session.history:
                speaker = who if message.get("role") == "assistant" else user
                out.write(f"{speaker}: {message.get('content', '')}\n")
            out.flush()
            while True:
                if interactive:
                    out.write(f"{user}> ")
                    out.flush()
                line = stdin.readline()
                if not line:
                    break
                text = line.strip()
                if not text:
                    continue
                if text in ("/quit", "/exit"):
                    break
                out.write(f"{who}: ")
                out.flush()
                stream = session.stream(text)
                try:
                    for chunk in stream:
                        out.write(chunk.delta)
                        out.flush()
                finally:
                    stream.close()
                out.write("\n")
                out.flush()
    finally:
        if store is not None:
            store.close()
    return EXIT_OK


def main(
    argv: Optional[Sequence[str]] = None, *, stdout: Optional[TextIO] = None, stdin: Optional[TextIO] = None
) -> int:
    """Runs the command with `argv` (default: `sys.argv[1:]`); the exit code."""
    out = stdout or sys.stdout
    err = sys.stderr
    arguments: List[str] = list(sys.argv[1:] if argv is None else argv)
    flags = {flag: flag in arguments for flag in ("--mock", "--debug")}
    arguments = [argument for argument in arguments if argument not in flags]  # allowed anywhere
    debug = flags["--debug"]
    from meganova.characters import CharacterCardError, SessionStoreError
    from meganova.errors import MeganovaError

    try:
        args = _parser().parse_args(arguments)
        args.mock, args.debug = flags["--mock"], debug
        if args.command is None:
            _parser().print_help(out)
            return EXIT_USAGE
        if args.command == "chat":
            return _chat(args, out, stdin or sys.stdin)
        if args.command == "models":
            return _models(args, out)
        if args.command == "usage":
            return _usage(args, out)
        if args.command == "balance":
            return _balance(args, out)
        if args.command == "character" and args.action == "show":
            return _show(args, out)
        raise _UsageError("meganova character: say what to do (show)")
    except _UsageError as exc:
        err.write(f"meganova: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        with contextlib.suppress(Exception):
            out.write("\n")
            out.flush()
        return EXIT_INTERRUPTED
    except (CharacterCardError, SessionStoreError) as exc:
        if debug:
            traceback.print_exc()
        err.write(f"meganova: {exc}\n")
        return EXIT_CARD_ERROR
    except MeganovaError as exc:
        if debug:
            traceback.print_exc()
        err.write(f"meganova: {type(exc).__name__}: {exc}\n")
        return EXIT_API_ERROR
    except BrokenPipeError:
        with contextlib.suppress(Exception):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - no "Exception ignored" at exit
        return EXIT_OK
    except Exception as exc:
        if debug:
            traceback.print_exc()
        err.write(f"meganova: unexpected error: {type(exc).__name__}: {exc} (run with --debug for details)\n")
        return EXIT_API_ERROR


def run() -> None:
    """The console script's entry point."""
    sys.exit(main())
