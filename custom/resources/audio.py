"""`client.audio`: speech to text (`transcribe`, also `stt`) and text to speech (`tts`), generated
from the spec. The file to transcribe may be a path (streamed from disk), bytes or a binary file
object; an upload that cannot be sent again (a pipe) is never retried.

openai-python's spellings are here too: `audio.speech.create(...)` is `audio.tts(...)` (the audio
bytes; `audio.speech.create_to_file(path, ...)` writes them to a file) and
`audio.transcriptions.create(...)` is `audio.transcribe(...)`. `with_raw_response` has every one of
these names.
"""

from __future__ import annotations

from typing import Any

from ...api.audio import (
    AsyncAudioResource,
    AsyncAudioResourceWithRawResponse,
    AsyncAudioResourceWithStreamingResponse,
    AudioResource,
    AudioResourceWithRawResponse,
    AudioResourceWithStreamingResponse,
)


class AudioWithRawResponse(AudioResourceWithRawResponse):
    """`Audio`'s methods (`stt` too), each returning the HTTP answer as an `APIResponse`."""

    stt = AudioResourceWithRawResponse.transcribe


class AsyncAudioWithRawResponse(AsyncAudioResourceWithRawResponse):
    """`AsyncAudio`'s methods (`stt` too), each returning the HTTP answer as an `APIResponse`."""

    stt = AsyncAudioResourceWithRawResponse.transcribe


class SpeechWithRawResponse(AudioResourceWithRawResponse):
    """`speech.create()` returning the HTTP answer as an `APIResponse`."""

    create = AudioResourceWithRawResponse.tts
    create_to_file = AudioResourceWithRawResponse.tts_to_file


class SpeechWithStreamingResponse(AudioResourceWithStreamingResponse):
    """`with client.audio.speech.with_streaming_response.create(...) as response:` the audio as it arrives."""

    create = AudioResourceWithStreamingResponse.tts


class TranscriptionsWithRawResponse(AudioResourceWithRawResponse):
    """`transcriptions.create()` returning the HTTP answer as an `APIResponse`."""

    create = AudioResourceWithRawResponse.transcribe


class TranscriptionsWithStreamingResponse(AudioResourceWithStreamingResponse):
    """`with client.audio.transcriptions.with_streaming_response.create(...) as response:` the answer unread."""

    create = AudioResourceWithStreamingResponse.transcribe


class Speech(AudioResource):
    """`create()`: text to speech by openai-python's name (`client.audio.speech.create`), the audio bytes."""

    create = AudioResource.tts
    create_to_file = AudioResource.tts_to_file

    @property
    def with_raw_response(self) -> SpeechWithRawResponse:
        """`create()` (and `create_to_file()`) returning the HTTP answer."""
        return SpeechWithRawResponse(self)

    @property
    def with_streaming_response(self) -> SpeechWithStreamingResponse:
        """`create()` as a context manager giving the audio as it arrives (`iter_bytes()`)."""
        return SpeechWithStreamingResponse(self)


class Transcriptions(AudioResource):
    """`create()`: speech to text by openai-python's name (`client.audio.transcriptions.create`)."""

    create = AudioResource.transcribe

    @property
    def with_raw_response(self) -> TranscriptionsWithRawResponse:
        """`create()` returning the HTTP answer."""
        return TranscriptionsWithRawResponse(self)

    @property
    def with_streaming_response(self) -> TranscriptionsWithStreamingResponse:
        """`create()` as a context manager giving the answer as it arrives (`iter_lines()`, `parse()`)."""
        return TranscriptionsWithStreamingResponse(self)


class AsyncSpeechWithRawResponse(AsyncAudioResourceWithRawResponse):
    """`await speech.create()` returning the HTTP answer as an `APIResponse`."""

    create = AsyncAudioResourceWithRawResponse.tts
    create_to_file = AsyncAudioResourceWithRawResponse.tts_to_file


class AsyncSpeechWithStreamingResponse(AsyncAudioResourceWithStreamingResponse):
    """`async with client.audio.speech.with_streaming_response.create(...) as response:` the audio as it arrives."""

    create = AsyncAudioResourceWithStreamingResponse.tts


class AsyncTranscriptionsWithRawResponse(AsyncAudioResourceWithRawResponse):
    """`await transcriptions.create()` returning the HTTP answer as an `APIResponse`."""

    create = AsyncAudioResourceWithRawResponse.transcribe


class AsyncTranscriptionsWithStreamingResponse(AsyncAudioResourceWithStreamingResponse):
    """`async with client.audio.transcriptions.with_streaming_response.create(...) as response:` unread."""

    create = AsyncAudioResourceWithStreamingResponse.transcribe


class AsyncSpeech(AsyncAudioResource):
    """`await create()`: text to speech by openai-python's name, the audio bytes."""

    create = AsyncAudioResource.tts
    create_to_file = AsyncAudioResource.tts_to_file

    @property
    def with_raw_response(self) -> AsyncSpeechWithRawResponse:
        """`create()` (and `create_to_file()`) returning the HTTP answer."""
        return AsyncSpeechWithRawResponse(self)

    @property
    def with_streaming_response(self) -> AsyncSpeechWithStreamingResponse:
        """`create()` as an async context manager giving the audio as it arrives."""
        return AsyncSpeechWithStreamingResponse(self)


class AsyncTranscriptions(AsyncAudioResource):
    """`await create()`: speech to text by openai-python's name."""

    create = AsyncAudioResource.transcribe

    @property
    def with_raw_response(self) -> AsyncTranscriptionsWithRawResponse:
        """`create()` returning the HTTP answer."""
        return AsyncTranscriptionsWithRawResponse(self)

    @property
    def with_streaming_response(self) -> AsyncTranscriptionsWithStreamingResponse:
        """`create()` as an async context manager giving the answer as it arrives."""
        return AsyncTranscriptionsWithStreamingResponse(self)


class Audio(AudioResource):
    """Speech to text (`transcribe`, `stt`, `transcriptions.create`) and text to speech (`tts`,
    `speech.create`: the audio bytes)."""

    stt = AudioResource.transcribe
    """The guideline's name for `transcribe`."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.speech = Speech(client)
        """openai-python's spelling: `client.audio.speech.create(...)`, the same call as `tts`."""
        self.transcriptions = Transcriptions(client)
        """openai-python's spelling: `client.audio.transcriptions.create(...)`, as `transcribe`."""

    @property
    def with_raw_response(self) -> AudioWithRawResponse:
        """The same methods, returning the HTTP answer (`APIResponse`) instead of the result."""
        return AudioWithRawResponse(self)


class AsyncAudio(AsyncAudioResource):
    """Speech to text (`await transcribe()`, `stt`, `transcriptions.create`) and text to speech
    (`await tts()`, `speech.create`)."""

    stt = AsyncAudioResource.transcribe
    """The guideline's name for `transcribe`."""

    def __init__(self, client: Any) -> None:
        super().__init__(client)
        self.speech = AsyncSpeech(client)
        """openai-python's spelling: `await client.audio.speech.create(...)`, the same call as `tts`."""
        self.transcriptions = AsyncTranscriptions(client)
        """openai-python's spelling: `await client.audio.transcriptions.create(...)`, as `transcribe`."""

    @property
    def with_raw_response(self) -> AsyncAudioWithRawResponse:
        """The same methods, returning the HTTP answer (`APIResponse`) instead of the result."""
        return AsyncAudioWithRawResponse(self)
