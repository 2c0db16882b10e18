"""Images: generate one and save it as a PNG file."""

from __future__ import annotations

import sys
from pathlib import Path

from meganova import MegaNova

target = Path(sys.argv[1] if len(sys.argv) > 1 else "lantern.png")
with MegaNova() as client:
    image = client.images.generate(
        "A lantern market at night", model="black-forest-labs/FLUX.1-dev", size="64x64", response_format="b64_json"
    )
    image.data[0].save(target)
    print(f"saved {target} ({target.stat().st_size} bytes)")
