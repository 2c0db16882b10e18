"""Structured output by hand: `response_format` with a JSON Schema, and the answer read as JSON."""

from __future__ import annotations

import json
from typing import Any, Dict

from meganova import MegaNova

SCHEMA: Dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "mood": {"type": "string", "enum": ["cheerful", "calm", "grumpy"]},
        "favourite_dishes": {"type": "array", "items": {"type": "string"}},
        "age": {"type": ["integer", "null"]},
    },
    "required": ["name", "mood", "favourite_dishes", "age"],
    "additionalProperties": False,
}

with MegaNova() as client:
    resp = client.chat.create(
        model="meganova-ai/manta-flash-1.0",
        messages=[{"role": "user", "content": "Describe Luna, the noodle stand owner."}],
        response_format={"type": "json_schema", "json_schema": {"name": "character", "schema": SCHEMA, "strict": True}},
    )
    character = json.loads(resp.choices[0].message.content or "{}")
    print(sorted(character), character["mood"])
