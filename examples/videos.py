"""Videos: start a generation and wait for it (polling), then look it up by its id."""

from __future__ import annotations

from meganova import MegaNova

with MegaNova() as client:
    video = client.videos.generate(
        "The harbor at dawn", model="Byteplus/seedance-1-0-pro-250528", wait=True, poll_interval=0.5, timeout=600
    )
    print(video.status, video.url)
    again = client.videos.get(video.id)
    print("looked up:", again.id, again.status)
