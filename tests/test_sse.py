"""The SSE decoder, per the specification: line ends, splits at every byte, multi-line data, comments."""

from __future__ import annotations

from typing import List

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from meganova.custom.runtime.sse import ServerSentEvent, SSEDecoder


def decode(*pieces: bytes) -> List[ServerSentEvent]:
    decoder = SSEDecoder()
    events: List[ServerSentEvent] = []
    for piece in pieces:
        events.extend(decoder.feed(piece))
    return events


STREAM = (
    b": ping - 2025-11-25\n"
    b'data: {"a": 1}\n\n'
    b"event: update\r\nid: 7\r\nretry: 1500\r\ndata:no-space\r\n\r\n"
    b"data: line one\rdata: line two\r\r"
    b"data: caf\xc3\xa9 \xe2\x9c\x93\n\n"
    b"data: [DONE]\n\n"
)
EXPECTED = [
    ServerSentEvent(b'{"a": 1}'),
    ServerSentEvent(b"no-space", event="update", id="7", retry=1500),
    ServerSentEvent(b"line one\nline two", id="7", retry=1500),
    ServerSentEvent("café ✓".encode(), id="7", retry=1500),
    ServerSentEvent(b"[DONE]", id="7", retry=1500),
]


def test_decodes_every_line_end_and_field() -> None:
    assert decode(STREAM) == EXPECTED


@pytest.mark.parametrize("cut", range(1, len(STREAM)))
def test_same_events_when_split_at_any_byte(cut: int) -> None:
    assert decode(STREAM[:cut], STREAM[cut:]) == EXPECTED


def test_same_events_when_fed_byte_by_byte() -> None:
    assert decode(*(STREAM[i : i + 1] for i in range(len(STREAM)))) == EXPECTED


def test_crlf_split_between_cr_and_lf_is_one_line_end() -> None:
    assert decode(b"data: x\r", b"\n\r", b"\n") == [ServerSentEvent(b"x")]


def test_comment_only_and_empty_events_dispatch_nothing() -> None:
    assert decode(b": keep-alive\n\n\n\nevent: ping\n\n") == []


def test_unfinished_event_is_pending_not_dispatched() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b'data: {"partial": tr') == []
    assert decoder.pending
    assert decoder.feed(b"ue}\n") == []
    assert decoder.pending
    assert decoder.feed(b"\n") == [ServerSentEvent(b'{"partial": true}')]
    assert not decoder.pending


def test_long_line_in_many_pieces_is_linear() -> None:
    decoder = SSEDecoder()
    payload = b"x" * 1000
    assert decoder.feed(b"data: ") == []
    for _ in range(2000):  # 2 MB in 1 kB pieces: quadratic joining would take many seconds
        assert decoder.feed(payload) == []
    events = decoder.feed(b"\n\n")
    assert events == [ServerSentEvent(b"x" * 2_000_000)]


@settings(max_examples=2000, derandomize=True, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=len(STREAM)), max_size=12))
def test_property_any_split_decodes_the_same(cuts: List[int]) -> None:
    points = sorted(set(cuts))
    pieces = [STREAM[a:b] for a, b in zip([0, *points], [*points, len(STREAM)])]
    assert decode(*pieces) == EXPECTED
