"""Audio: text to speech (bytes and a file), then speech back to text."""

from __future__ import annotations

import sys
from pathlib import Path

from meganova import MegaNova

folder = Path(sys.argv[1] if len(sys.argv) > 1 else ".")
with MegaNova() as client:
    speech = client.audio.tts(
        "Welcome to Neon Harbor.", model="hexgrad/Kokoro-82M", voice="af_heart", response_format="wav"
    )
    print(f"tts: {len(speech)} bytes of WAV")
    path = folder / "welcome.mp3"
    client.audio.tts_to_file(path, "Welcome to Neon Harbor.", model="hexgrad/Kokoro-82M", voice="af_heart")
    print(f"saved {path} ({path.stat().st_size} bytes)")
    text = client.audio.transcribe(speech, filename="welcome.wav", model="Systran/faster-whisper-large-v3")
    print("transcribed:", text.text)
