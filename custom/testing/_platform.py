"""The answers of the operations beyond chat: embeddings, images, audio, rerank, videos, the serverless
catalogue, instance billing and usage per day. Pure functions of the request (videos use `Context.state`)."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import time
import zlib
from datetime import datetime, timedelta, timezone
from typing import Any, Dict, List, Optional, Tuple

from . import _media
from ._answers import error_answer, invalid, json_object, ok
from ._api import parse_time, price_per_1k
from ._http import Answer, FormPart, MultipartError, RecordedRequest, parse_multipart
from ._state import Context

__all__ = [
    "SERVERLESS_MODELS",
    "create_embedding",
    "create_rerank",
    "create_speech",
    "create_transcription",
    "generate_image",
    "generate_video",
    "get_user_instance_billings",
    "get_usage_time_range",
    "get_video_generation",
    "list_serverless_models",
    "transcript_of",
]

_SIZE = re.compile(r"^([0-9]{1,5})x([0-9]{1,5})$")
_WORD = re.compile(r"[a-z0-9]+")


# --- field checks: each returns the 422 answer, or None when the field is absent or fine -------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _required_text(body: Dict[str, Any], name: str) -> Optional[Answer]:
    value = body.get(name)
    if value is None:
        return invalid(f"'{name}' is required", name)
    if not isinstance(value, str) or not value.strip():
        return invalid(f"'{name}' must be a non-empty string", name)
    return None


def _optional_text(body: Dict[str, Any], *names: str) -> Optional[Answer]:
    for name in names:
        if body.get(name) is not None and not isinstance(body[name], str):
            return invalid(f"'{name}' must be a string", name)
    return None


def _optional_int(body: Dict[str, Any], name: str, low: int, high: int) -> Optional[Answer]:
    value = body.get(name)
    if value is not None and (not _is_int(value) or not low <= value <= high):
        return invalid(f"'{name}' must be an integer between {low} and {high}", name)
    return None


def _optional_number(body: Dict[str, Any], name: str, low: float, high: float) -> Optional[Answer]:
    value = body.get(name)
    if value is not None and (not _is_number(value) or not low <= value <= high):
        return invalid(f"'{name}' must be a number between {low:g} and {high:g}", name)
    return None


def _optional_choice(body: Dict[str, Any], name: str, choices: Tuple[str, ...]) -> Optional[Answer]:
    value = body.get(name)
    if value is not None and value not in choices:
        return invalid(f"'{name}' must be one of {', '.join(choices)}, not {value!r}", name)
    return None


def _optional_size(body: Dict[str, Any], name: str = "size") -> Optional[Answer]:
    value = body.get(name)
    if value is None:
        return None
    match = _SIZE.match(value) if isinstance(value, str) else None
    if match is None or not all(1 <= int(side) <= 8192 for side in match.groups()):
        return invalid(f"'{name}' must be '<width>x<height>' (1 to 8192 pixels each), not {value!r}", name)
    return None


def _first_problem(*problems: Optional[Answer]) -> Optional[Answer]:
    for problem in problems:
        if problem is not None:
            return problem
    return None


# --- embeddings -----------------------------------------------------------------------------------

_DEFAULT_DIMENSIONS = 1024


def _embedding_inputs(value: Any) -> Optional[List[Tuple[bytes, int]]]:
    """(hash key, token count) per input, or None when `input` has none of the four accepted forms."""
    if isinstance(value, str):
        return [(b"t" + value.encode("utf-8"), len(value.split()))]
    if not isinstance(value, list) or not value:
        return None
    if all(isinstance(item, str) for item in value):
        return [(b"t" + item.encode("utf-8"), len(item.split())) for item in value]
    if all(_is_int(item) for item in value):
        return [(b"i" + json.dumps(value).encode(), len(value))]
    if all(isinstance(item, list) and item and all(_is_int(token) for token in item) for item in value):
        return [(b"i" + json.dumps(item).encode(), len(item)) for item in value]
    return None


def create_embedding(request: RecordedRequest, context: Context) -> Answer:
    """`POST /v1/embeddings`: unit vectors from a hash of each input, float32-exact."""
    body, problem = json_object(request, "embedding request")
    if problem is not None:
        return problem
    if body.get("input") is None:
        return invalid("'input' is required", "input")
    inputs = _embedding_inputs(body["input"])
    if inputs is None:
        return invalid(
            "'input' must be a string, a non-empty list of strings, a token array, or a list of token arrays",
            "input",
        )
    problem = _first_problem(
        _required_text(body, "model"),
        _optional_choice(body, "encoding_format", ("float", "base64")),
        _optional_int(body, "dimensions", 1, 8192),
        _optional_text(body, "user"),
    )
    if problem is not None:
        return problem
    dimensions = body.get("dimensions") or _DEFAULT_DIMENSIONS
    as_base64 = body.get("encoding_format") == "base64"
    data = []
    for index, (key, _) in enumerate(inputs):
        vector = _media.embedding_vector(key, dimensions)
        data.append(
            {
                "object": "embedding",
                "index": index,
                "embedding": _media.float32_base64(vector) if as_base64 else vector,
            }
        )
    tokens = sum(count for _, count in inputs)
    return ok(
        {
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


# --- images ---------------------------------------------------------------------------------------

CDN = "https://cdn.meganova.test"
"""Where the URLs of generated images and videos point (`.test` never resolves: nothing is served)."""


def generate_image(request: RecordedRequest, context: Context) -> Answer:
    """`POST /v1/images/generations`: PNGs of the requested `size` (1024x1024 by default)."""
    body, problem = json_object(request, "image generation request")
    if problem is not None:
        return problem
    problem = _first_problem(
        _required_text(body, "prompt"),
        _required_text(body, "model"),
        _optional_int(body, "n", 1, 10),
        _optional_size(body),
        _optional_choice(body, "response_format", ("url", "b64_json")),
        _optional_int(body, "num_steps", 1, 1000),
        _optional_number(body, "guidance_scale", 0, 100),
        _optional_int(body, "seed", -(2**63), 2**64 - 1),
        _optional_text(body, "quality", "style", "negative_prompt", "user"),
    )
    if problem is not None:
        return problem
    width, height = (int(side) for side in (body.get("size") or "1024x1024").split("x"))
    as_url = body.get("response_format") == "url"
    images = []
    for index in range(body.get("n") or 1):
        if as_url:
            image: Dict[str, Any] = {"url": f"{CDN}/images/img_{context.answer_id}_{index}.png"}
        else:
            seed = json.dumps([body["prompt"], body.get("seed"), index]).encode("utf-8")
            png = _media.png(width, height, seed)
            image = {"b64_json": base64.b64encode(png).decode("ascii")}
        image["revised_prompt"] = body["prompt"]
        images.append(image)
    return ok({"created": int(time.time()), "data": images})


# --- audio ----------------------------------------------------------------------------------------

_TRANSCRIPTS = (
    "Meet me at Pier Nine when the lanterns come on.",
    "The ferry leaves at midnight, so do not be late.",
    "Three lanterns on the lighthouse are out again.",
    "The noodle stand smells like ginger and rain tonight.",
    "Somebody left a radio playing on the fishing boat.",
    "The tide is turning and the market is closing.",
)
_BYTES_PER_SECOND = 16000  # 128 kbit/s, a common mp3 rate


def transcript_of(audio: bytes) -> str:
    """The text the mock hears in `audio`: one sentence chosen by the bytes' CRC-32."""
    return _TRANSCRIPTS[zlib.crc32(audio) % len(_TRANSCRIPTS)]


def _timestamp(seconds: float, separator: str) -> str:
    millis = round(seconds * 1000)
    return f"{millis // 3600000:02d}:{millis // 60000 % 60:02d}:{millis // 1000 % 60:02d}{separator}{millis % 1000:03d}"


def _form_fields(parts: List[FormPart]) -> Tuple[Optional[FormPart], Dict[str, str]]:
    file_part = None
    fields: Dict[str, str] = {}
    for part in parts:
        if part.name == "file" and file_part is None:
            file_part = part
        else:
            fields.setdefault(part.name, part.text)
    return file_part, fields


def create_transcription(request: RecordedRequest, context: Context) -> Answer:
    """`POST /v1/audio/transcriptions` (multipart/form-data): a sentence chosen by the file's bytes."""
    try:
        parts = parse_multipart(request.headers.get("content-type", ""), request.body)
    except MultipartError as problem:
        return error_answer(400, f"Send the audio as multipart/form-data: {problem}", code="invalid_multipart")
    file_part, fields = _form_fields(parts)
    if file_part is None:
        return invalid("'file' is required (a file part)", "file")
    if not file_part.data:
        return invalid("'file' is empty", "file")
    if not fields.get("model", "").strip():
        return invalid("'model' is required", "model")
    response_format = fields.get("response_format", "json")
    formats = ("json", "text", "srt", "verbose_json", "vtt")
    if response_format not in formats:
        return invalid(
            f"'response_format' must be one of {', '.join(formats)}, not {response_format!r}", "response_format"
        )
    if "temperature" in fields:
        try:
            temperature = float(fields["temperature"])
        except ValueError:
            temperature = math.nan
        if not 0 <= temperature <= 1:
            return invalid("'temperature' must be a number between 0 and 1", "temperature")
    text = transcript_of(file_part.data)
    duration = round(max(0.5, len(file_part.data) / _BYTES_PER_SECOND), 2)
    if response_format == "text":
        return Answer(200, text.encode("utf-8"), content_type="text/plain; charset=utf-8")
    if response_format == "srt":
        cue = f"1\n{_timestamp(0, ',')} --> {_timestamp(duration, ',')}\n{text}\n"
        return Answer(200, cue.encode("utf-8"), content_type="text/plain; charset=utf-8")
    if response_format == "vtt":
        cue = f"WEBVTT\n\n{_timestamp(0, '.')} --> {_timestamp(duration, '.')}\n{text}\n"
        return Answer(200, cue.encode("utf-8"), content_type="text/plain; charset=utf-8")
    if response_format == "json":
        return ok({"text": text})
    return ok(
        {
            "task": "transcribe",
            "language": fields.get("language") or "en",
            "duration": duration,
            "text": text,
            "segments": [{"id": 0, "start": 0.0, "end": duration, "text": text}],
        }
    )


_SPEECH_TYPES = {"mp3": "audio/mpeg", "wav": "audio/wav", "pcm": "audio/pcm"}
"""What the mock encodes itself; opus, aac and flac are answered with WAV (Content-Type audio/wav)."""


def create_speech(request: RecordedRequest, context: Context) -> Answer:
    """`POST /v1/audio/speech`: a tone (WAV, PCM) or silence (MP3), 0.2 s per word, at most 3 s."""
    body, problem = json_object(request, "speech request")
    if problem is not None:
        return problem
    problem = _first_problem(
        _required_text(body, "input"),
        _required_text(body, "model"),
        _required_text(body, "voice"),
        _optional_choice(body, "response_format", ("mp3", "opus", "aac", "flac", "wav", "pcm")),
        _optional_number(body, "speed", 0.25, 4.0),
    )
    if problem is not None:
        return problem
    seconds = min(3.0, 0.2 * len(body["input"].split())) / (body.get("speed") or 1.0)
    response_format = body.get("response_format") or "mp3"
    if response_format == "mp3":
        return Answer(200, _media.mp3_silence(seconds), content_type="audio/mpeg")
    frequency = 220 + zlib.crc32(body["voice"].encode("utf-8")) % 440
    pcm = _media.pcm_tone(seconds, frequency)
    if response_format == "pcm":
        return Answer(200, pcm, content_type="audio/pcm")
    return Answer(200, _media.wav(pcm), content_type="audio/wav")


# --- rerank ---------------------------------------------------------------------------------------


def _words(text: str) -> List[str]:
    return _WORD.findall(text.lower())


def create_rerank(request: RecordedRequest, context: Context) -> Answer:
    """`POST /v1/rerank`: the share of the query's words each document contains, most relevant first."""
    body, problem = json_object(request, "rerank request")
    if problem is not None:
        return problem
    problem = _first_problem(_required_text(body, "query"), _required_text(body, "model"))
    if problem is not None:
        return problem
    documents = body.get("documents")
    if documents is None:
        return invalid("'documents' is required", "documents")
    if not isinstance(documents, list) or not all(isinstance(item, (str, dict)) for item in documents):
        return invalid("'documents' must be a list of strings or objects", "documents")
    problem = _optional_int(body, "top_n", 1, 10000)
    if problem is None and body.get("return_documents") is not None and not isinstance(body["return_documents"], bool):
        problem = invalid("'return_documents' must be a boolean", "return_documents")
    if problem is not None:
        return problem
    query = set(_words(body["query"]))
    scored = []
    tokens = len(_words(body["query"]))
    for index, document in enumerate(documents):
        text = document if isinstance(document, str) else str(document.get("text", json.dumps(document)))
        words = _words(text)
        tokens += len(words)
        overlap = len(query & set(words)) / len(query) if query else 0.0
        scored.append((round(overlap, 6), index, document))
    scored.sort(key=lambda item: (-item[0], item[1]))
    if body.get("top_n") is not None:
        del scored[body["top_n"] :]
    results = []
    for score, index, document in scored:
        result: Dict[str, Any] = {"index": index, "relevance_score": score}
        if body.get("return_documents", True):
            result["document"] = {"text": document} if isinstance(document, str) else document
        results.append(result)
    return ok({"model": body["model"], "results": results, "usage": {"total_tokens": tokens}})


# --- videos ---------------------------------------------------------------------------------------

_VIDEO_ERROR = {"message": "The model could not render this prompt", "code": "generation_failed"}


def generate_video(request: RecordedRequest, context: Context) -> Answer:
    """`POST /v1/videos/generations`: a queued job; each GET moves it on (a prompt with "fail" fails)."""
    body, problem = json_object(request, "video generation request")
    if problem is not None:
        return problem
    problem = _first_problem(
        _required_text(body, "prompt"),
        _required_text(body, "model"),
        _optional_text(body, "image_url", "aspect_ratio"),
        _optional_size(body),
        _optional_int(body, "n_seconds", 1, 60),
        _optional_int(body, "seed", -(2**63), 2**64 - 1),
    )
    if problem is not None:
        return problem
    record = {
        "id": "vgen_" + context.answer_id,
        "object": "video.generation",
        "created_at": int(time.time()),
        "status": "queued",
        "model": body["model"],
        "estimated_cost": round(0.05 * (body.get("n_seconds") or 5), 4),
    }
    return ok(context.state.add_video(record, fails="fail" in body["prompt"].lower()))


def get_video_generation(request: RecordedRequest, context: Context) -> Answer:
    """`GET /v1/videos/generations/{generation_id}`."""
    generation_id = context.params[0]
    record = context.state.poll_video(generation_id, f"{CDN}/videos/{generation_id}.mp4", _VIDEO_ERROR)
    if record is None:
        return error_answer(
            404, f"Video generation not found: {generation_id}", code="generation_not_found", param="generation_id"
        )
    return ok(record)


# --- the serverless catalogue ---------------------------------------------------------------------


def _serverless(
    name: str,
    alias: str,
    modality: str,
    costs: Tuple[Optional[float], Optional[float]],
    family: str,
    highlights: List[str],
    use_cases: List[str],
    tier2: bool = False,
) -> Dict[str, Any]:
    return {
        "model_name": name,
        "model_alias": alias,
        "modality": modality,
        "cost_per_1k_input": costs[0],
        "cost_per_1k_output": costs[1],
        "tier2+_require": tier2,
        "restrictions": None,
        "model_family": family,
        "highlights": highlights,
        "use_cases": use_cases,
    }


SERVERLESS_MODELS: List[Dict[str, Any]] = [
    _serverless(
        "meganova-ai/manta-mini-1.0",
        "Manta Mini",
        "text_generation",
        (0.0001, 0.0003),
        "manta",
        [],
        ["roleplay", "chat"],
    ),
    _serverless(
        "meganova-ai/manta-flash-1.0",
        "Manta Flash",
        "text_generation",
        (0.0002, 0.0006),
        "manta",
        ["popular"],
        ["roleplay", "chat"],
    ),
    _serverless(
        "meganova-ai/manta-pro-1.0",
        "Manta Pro",
        "text_generation",
        (0.0012, 0.0036),
        "manta",
        ["new"],
        ["roleplay", "writing"],
    ),
    _serverless(
        "Qwen/Qwen3-235B-A22B-Instruct-2507",
        "Qwen3 235B",
        "text_generation",
        (0.0009, 0.0027),
        "qwen",
        ["popular"],
        ["coding", "chat"],
    ),
    _serverless(
        "moonshotai/Kimi-K2-Thinking",
        "Kimi K2 Thinking",
        "text_generation",
        (0.0015, 0.006),
        "kimi",
        ["new"],
        ["reasoning", "coding"],
        tier2=True,
    ),
    _serverless(
        "Qwen/Qwen2.5-VL-7B-Instruct", "Qwen2.5 VL 7B", "image_to_text", (0.0002, 0.0002), "qwen", [], ["vision"]
    ),
    _serverless(
        "ByteDance/SeedDream-4-5", "SeedDream 4.5", "text_to_image", (None, None), "seeddream", ["new"], ["image"]
    ),
    _serverless(
        "black-forest-labs/FLUX.1-dev", "FLUX.1 dev", "text_to_image", (None, None), "flux", ["popular"], ["image"]
    ),
    _serverless(
        "Byteplus/seedance-1-0-pro-250528",
        "Seedance 1.0 Pro",
        "text_to_video",
        (None, None),
        "seedance",
        ["new"],
        ["video"],
        tier2=True,
    ),
    _serverless(
        "Systran/faster-whisper-large-v3",
        "Whisper Large v3",
        "speech_to_text",
        (None, None),
        "whisper",
        [],
        ["transcription"],
    ),
]
"""The catalogue `GET /api/v1/serverless/models/filter` filters (on the server's root, not under /v1)."""

_BOOLEAN_TEXT = {"true": True, "1": True, "false": False, "0": False}


def _tags(model: Dict[str, Any]) -> List[str]:
    return [*model["highlights"], *model["use_cases"], model["model_family"]]


def _tagged(model: Dict[str, Any], field: str, tag: str) -> bool:
    if field == "model_family":
        return bool(tag.lower() == model[field])
    return tag in model[field]


def list_serverless_models(request: RecordedRequest, context: Context) -> Answer:
    """`GET /api/v1/serverless/models/filter`."""
    query = request.query
    logic = query.get("filter_logic", "or")
    if logic not in ("or", "and"):
        return invalid(f"'filter_logic' must be 'or' or 'and', not {logic!r}", "filter_logic")
    counts_text = query.get("include_tag_counts", "true").lower()
    if counts_text not in _BOOLEAN_TEXT:
        return invalid(f"'include_tag_counts' must be true or false, not {counts_text!r}", "include_tag_counts")
    modality = query.get("modality")
    search = (query.get("search") or "").lower()
    wanted = [
        (field, query[name])
        for name, field in (("highlight", "highlights"), ("use_case", "use_cases"), ("model_family", "model_family"))
        if query.get(name)
    ]
    models = []
    for model in SERVERLESS_MODELS:
        if modality and model["modality"] != modality:
            continue
        if search and search not in f"{model['model_name']} {model['model_alias']}".lower():
            continue
        if wanted:
            matches = [_tagged(model, field, tag) for field, tag in wanted]
            if not (all(matches) if logic == "and" else any(matches)):
                continue
        models.append(dict(model))
    page: Dict[str, Any] = {"models": models, "count": len(models)}
    if _BOOLEAN_TEXT[counts_text]:
        tag_counts: Dict[str, int] = {}
        for model in models:
            for tag in _tags(model):
                tag_counts[tag] = tag_counts.get(tag, 0) + 1
        page["tag_counts"] = dict(sorted(tag_counts.items()))
    return ok({"data": page})


# --- instance billing, usage per day ---------------------------------------------------------------

_INSTANCES = [
    {
        "vm_access_info_id": 1201,
        "running_hours": 12.5,
        "fee_accumulated": 18.75,
        "tax_rate": 0.1,
        "fee_accumulated_taxed": 20.625,
        "product_status": "running",
    },
    {
        "vm_access_info_id": 1202,
        "running_hours": 3.0,
        "fee_accumulated": 4.5,
        "tax_rate": 0.1,
        "fee_accumulated_taxed": 4.95,
        "product_status": "stopped",
    },
]
_INSTANCE_BILLINGS = {
    "data": _INSTANCES,
    "total_cost": round(sum(item["fee_accumulated_taxed"] for item in _INSTANCES), 6),  # type: ignore[misc]
    "message": "success",
    "status": "success",
}


def get_user_instance_billings(request: RecordedRequest, context: Context) -> Answer:
    """`GET /v1/billing/user-instance-billings`."""
    return ok(_INSTANCE_BILLINGS)


_DAY_MODELS = ("meganova-ai/manta-flash-1.0", "meganova-ai/manta-pro-1.0")
_MAX_DAYS = 366


def get_usage_time_range(request: RecordedRequest, context: Context) -> Answer:
    """`GET /v1/usage/time_range`: a row per day (UTC) and model; `team_id` changes the numbers."""
    bounds = []
    for name in ("start_time", "end_time"):
        text = request.query.get(name)
        if text is None:
            return invalid(f"'{name}' is required (an ISO 8601 date-time)", name)
        moment = parse_time(text)
        if moment is None:
            return invalid(f"'{name}' is not an ISO 8601 date-time: {text!r}", name)
        bounds.append(moment)
    start, end = bounds
    if end < start:
        return invalid("'end_time' must not be before 'start_time'", "end_time")
    if end - start > timedelta(days=_MAX_DAYS):
        return invalid(f"The range must not be longer than {_MAX_DAYS} days", "end_time")
    team = request.query.get("team_id") or ""
    team_factor = int(hashlib.sha256(team.encode("utf-8")).hexdigest()[:4], 16) % 5 if team else 0
    rows = []
    day = start.date()
    while start < end and datetime(day.year, day.month, day.day, tzinfo=timezone.utc) < end:
        ordinal = day.toordinal()
        for index, model in enumerate(_DAY_MODELS):
            tokens = (1 + (ordinal * 7 + index * 13 + team_factor) % 11) * (2400 if index == 0 else 600)
            cost = tokens * 0.7 / 1000 * price_per_1k(model, "prompt") + tokens * 0.3 / 1000 * price_per_1k(
                model, "completion"
            )
            rows.append({"date": day.isoformat(), "model": model, "tokens": tokens, "cost": round(cost, 6)})
        day += timedelta(days=1)
    return ok({"data": rows, "message": "success", "status": "success"})
