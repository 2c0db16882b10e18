"""`client.audio`: speech to text (`transcribe`, also `stt`) and text to speech (`tts`), generated
from the spec. The file to transcribe may be a path (streamed from disk), bytes or a binary file
object; an upload that cannot be sent again (a pipe) is never retried."""

from __future__ import annotations

from ...api.audio import AsyncAudioResource, AudioResource


class Audio(AudioResource):
    """Speech to text (`transcribe`, `stt`) and text to speech (`tts`, the audio bytes)."""

    stt = AudioResource.transcribe
    """The guideline's name for `transcribe`."""


class AsyncAudio(AsyncAudioResource):
    """Speech to text (`await transcribe()`, `stt`) and text to speech (`await tts()`)."""

    stt = AsyncAudioResource.transcribe
    """The guideline's name for `transcribe`."""
