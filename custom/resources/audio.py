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
    AudioResource,
    AudioResourceWithRawResponse,
)


class AudioWithRawResponse(AudioResourceWithRawResponse):
    """`Audio`'s methods (`stt` too), each returning the HTTP answer as an `APIResponse`."""

    stt = AudioResourceWithRawResponse.transcribe


class AsyncAudioWithRawResponse(AsyncAudioResourceWithRawResponse):
    """`AsyncAudio`'s methods (`stt` too), each returning the HTTP answer as an `APIResponse`."""

    stt = AsyncAudioResourceWithRawResponse.transcribe


class Speech(AudioResource):
    """`create()`: text to speech by openai-python's name (`client.audio.speech.create`), the audio bytes."""

    create = AudioResource.tts
    create_to_file = AudioResource.tts_to_file


class Transcriptions(AudioResource):
    """`create()`: speech to text by openai-python's name (`client.audio.transcriptions.create`)."""

    create = AudioResource.transcribe


class AsyncSpeech(AsyncAudioResource):
    """`await create()`: text to speech by openai-python's name, the audio bytes."""

    create = AsyncAudioResource.tts
    create_to_file = AsyncAudioResource.tts_to_file


class AsyncTranscriptions(AsyncAudioResource):
    """`await create()`: speech to text by openai-python's name."""

    create = AsyncAudioResource.transcribe


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
