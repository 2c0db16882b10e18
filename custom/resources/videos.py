"""`client.videos`: video generation (`generate`, `get`), generated from the spec.

Extension: `generate(..., wait=True)` polls `get()` every `poll_interval` seconds until the generation
is `completed` or `failed` (the async client awaits between polls, never blocking the loop), and
raises `VideoTimeoutError` when `timeout` seconds pass first. In this method `timeout` is that total
wait, as in the 0.4 SDK; each HTTP attempt is bounded by the client's own timeout.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any, Mapping, Optional

from ...api.videos import AsyncVideosResource, VideosResource
from ..errors import APITimeoutError

if TYPE_CHECKING:
    from ...models.video_generation import VideoGeneration

FINISHED = frozenset({"completed", "failed"})
DEFAULT_WAIT = 600.0
"""Seconds `generate(wait=True)` waits at most by default."""


class VideoTimeoutError(APITimeoutError):
    """The video generation did not finish within `timeout` seconds; `generation` is its last state."""

    generation: Optional[VideoGeneration] = None


def _finished(generation: VideoGeneration) -> bool:
    """Done (or not a model: an `APIResponse` under `with_raw_response`, returned as it is)."""
    get = getattr(generation, "get", None)
    return get is None or str(get("status")) in FINISHED


def _out_of_time(generation: VideoGeneration, timeout: float) -> VideoTimeoutError:
    error = VideoTimeoutError(
        f"Video generation {generation.get('id')!r} is still {generation.get('status')!r} after {timeout:g} s.",
        request_id=generation.request_id,
    )
    error.generation = generation
    return error


class Videos(VideosResource):
    """Video generation: `generate()` (with `wait=True`, until it is done) and `get()`."""

    def generate(  # type: ignore[override]
        self,
        prompt: str,
        *,
        model: str,
        image_url: Optional[str] = None,
        size: Optional[str] = "1280x720",
        n_seconds: Optional[int] = 5,
        aspect_ratio: Optional[str] = None,
        seed: Optional[int] = None,
        wait: bool = False,
        poll_interval: float = 5.0,
        timeout: Optional[float] = 600.0,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> VideoGeneration:
        """Start a video generation (`POST /videos/generations`); with `wait=True`, poll until it is
        `completed` or `failed`, for at most `timeout` seconds (`VideoTimeoutError` then)."""
        generation = super().generate(
            prompt,
            model=model,
            image_url=image_url,
            size=size,
            n_seconds=n_seconds,
            aspect_ratio=aspect_ratio,
            seed=seed,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
        )
        timeout = DEFAULT_WAIT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while wait and not _finished(generation):
            if time.monotonic() + poll_interval > deadline:
                raise _out_of_time(generation, timeout)
            time.sleep(poll_interval)
            generation = self.get(str(generation.id), max_retries=max_retries, extra_headers=extra_headers)
        return generation


class AsyncVideos(AsyncVideosResource):
    """Video generation: `await generate()` (with `wait=True`, until it is done) and `await get()`."""

    async def generate(  # type: ignore[override]
        self,
        prompt: str,
        *,
        model: str,
        image_url: Optional[str] = None,
        size: Optional[str] = "1280x720",
        n_seconds: Optional[int] = 5,
        aspect_ratio: Optional[str] = None,
        seed: Optional[int] = None,
        wait: bool = False,
        poll_interval: float = 5.0,
        timeout: Optional[float] = 600.0,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> VideoGeneration:
        """Start a video generation (`POST /videos/generations`); with `wait=True`, poll until it is
        `completed` or `failed`, for at most `timeout` seconds (`VideoTimeoutError` then)."""
        generation = await super().generate(
            prompt,
            model=model,
            image_url=image_url,
            size=size,
            n_seconds=n_seconds,
            aspect_ratio=aspect_ratio,
            seed=seed,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
        )
        timeout = DEFAULT_WAIT if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while wait and not _finished(generation):
            if time.monotonic() + poll_interval > deadline:
                raise _out_of_time(generation, timeout)
            await asyncio.sleep(poll_interval)
            generation = await self.get(str(generation.id), max_retries=max_retries, extra_headers=extra_headers)
        return generation
