"""`client.videos`: video generation (`generate`, `get`), generated from the spec.

Extension: `generate(..., wait=True)` polls `get()` every `poll_interval` seconds until the generation
is `completed` or `failed` (the async client awaits between polls, never blocking the loop), and
raises `VideoTimeoutError` (in `meganova.errors`) when `timeout` seconds pass first. In this method
`timeout` is that total wait, as in the 0.4 SDK; each HTTP attempt is bounded by the client's own
timeout. One deadline covers the whole wait (`runtime/wait.py`): a retry whose wait (a Retry-After, a
backoff) would pass it is not made, so the call ends within `timeout` plus one attempt's bound.

The first poll comes `poll_interval` seconds after the start (or at the deadline, if sooner); the
polls follow the job the call created, and an answer for another job id is refused
(`APIResponseValidationError`). `on_progress(generation)` is called with each state seen: the created
job, then each poll's. `with_raw_response.generate(wait=True)` waits the same way and returns the last
poll's `APIResponse`.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import TYPE_CHECKING, Any, Callable, Mapping, Optional, cast

from ...api.videos import (
    AsyncVideosResource,
    AsyncVideosResourceWithRawResponse,
    VideosResource,
    VideosResourceWithRawResponse,
)
from ...types import APIResponse
from ..runtime.errors import APIResponseValidationError, MeganovaError, VideoTimeoutError
from ..runtime.wait import WaitDeadline, check_seconds

if TYPE_CHECKING:
    from ...models.video_generation import VideoGeneration

__all__ = ["AsyncVideos", "DEFAULT_WAIT", "ProgressCallback", "VideoTimeoutError", "Videos"]

FINISHED = frozenset({"completed", "failed"})
DEFAULT_WAIT = 600.0
"""Seconds `generate(wait=True)` waits at most by default."""

ProgressCallback = Callable[["VideoGeneration"], Any]
"""Called with each state of a generation a wait sees (with the async client it may be a coroutine function)."""


def _generation(answer: Any) -> VideoGeneration:
    """The generation of an answer: the model itself, or an `APIResponse`'s parsed model."""
    if isinstance(answer, APIResponse):
        return cast("VideoGeneration", answer.parse())
    return cast("VideoGeneration", answer)


class _Wait:
    """The decisions of one `generate(wait=True)`: pure, shared by the sync and async loops."""

    __slots__ = ("deadline", "generation", "job_id", "on_progress", "poll_interval", "wait")

    def __init__(self, wait: bool, poll_interval: Any, timeout: Any, on_progress: Optional[ProgressCallback]) -> None:
        self.wait = bool(wait)
        self.poll_interval = check_seconds(poll_interval, "poll_interval", positive=True)
        total = DEFAULT_WAIT if timeout is None else check_seconds(timeout, "timeout")
        if on_progress is not None and not callable(on_progress):
            raise MeganovaError(f"on_progress must be callable, got {type(on_progress).__name__}.")
        self.on_progress = on_progress
        self.deadline = WaitDeadline(total if self.wait else float("inf"))
        self.generation: Optional[VideoGeneration] = None
        self.job_id: Optional[str] = None

    def seen(self, answer: Any) -> VideoGeneration:
        """Records a state (the created job's, then each poll's); refuses another job's answer."""
        generation = _generation(answer)
        job_id = generation.get("id")
        if self.job_id is None:
            self.job_id = None if job_id is None else str(job_id)
        elif job_id is not None and str(job_id) != self.job_id:
            raise APIResponseValidationError(
                f"Polled video generation {self.job_id!r}, the answer is for {str(job_id)!r}: refused.",
                request_id=generation.request_id,
            )
        self.generation = generation
        return generation

    def pause(self) -> Optional[float]:
        """Seconds to sleep before the next poll; None when the wait is over (not waiting, or finished).
        Raises `VideoTimeoutError` once the deadline has passed."""
        generation = self.generation
        assert generation is not None
        if not self.wait or str(generation.get("status")) in FINISHED:
            return None
        if self.job_id is None:
            raise APIResponseValidationError(
                "The video generation's answer has no id: it cannot be polled.", request_id=generation.request_id
            )
        left = self.deadline.left()
        if left <= 0:
            raise self.out_of_time()
        return min(self.poll_interval, left)

    def out_of_time(self) -> VideoTimeoutError:
        generation = self.generation
        status = None if generation is None else generation.get("status")
        error = VideoTimeoutError(
            f"Video generation {self.job_id!r} is still {status!r} after {self.deadline.elapsed():.3g} s "
            f"(timeout={self.deadline.timeout:g}).",
            request_id=None if generation is None else generation.request_id,
        )
        error.generation = generation
        return error

    def failed(self, exc: MeganovaError) -> MeganovaError:
        """The error to raise for a failed call: `VideoTimeoutError` when its retries were cut by the
        wait's deadline (after the job was created), else the call's own error."""
        if self.deadline.cut and self.generation is not None:
            return self.out_of_time()
        return exc


def _raise_for(wait: _Wait, exc: MeganovaError) -> None:
    error = wait.failed(exc)
    if error is exc:
        raise exc
    raise error from exc


class Videos(VideosResource):
    """Video generation: `generate()` (with `wait=True`, until it is done) and `get()`."""

    @property
    def with_raw_response(self) -> VideosWithRawResponse:
        """The same methods, returning the HTTP answer (`APIResponse`); `generate(wait=True)` gives the
        last poll's."""
        return VideosWithRawResponse(self)

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
        timeout: Optional[float] = DEFAULT_WAIT,
        on_progress: Optional[ProgressCallback] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> VideoGeneration:
        """Start a video generation (`POST /videos/generations`); with `wait=True`, poll every
        `poll_interval` seconds until it is `completed` or `failed`, for at most `timeout` seconds in
        all (`VideoTimeoutError` then); `on_progress(generation)` sees each state."""
        state = _Wait(wait, poll_interval, timeout, on_progress)
        with state.deadline.active():
            answer: Any = super().generate(
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
            while True:
                generation = state.seen(answer)
                if state.on_progress is not None:
                    state.on_progress(generation)
                pause = state.pause()
                if pause is None:
                    return cast("VideoGeneration", answer)
                time.sleep(pause)
                try:
                    answer = self.get(str(state.job_id), max_retries=max_retries, extra_headers=extra_headers)
                except MeganovaError as exc:
                    _raise_for(state, exc)


class VideosWithRawResponse(VideosResourceWithRawResponse):
    """`Videos`' methods, each returning the HTTP answer as an `APIResponse`."""

    _resource: Videos

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
        timeout: Optional[float] = DEFAULT_WAIT,
        on_progress: Optional[ProgressCallback] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> APIResponse[VideoGeneration]:
        """`generate()` returning the HTTP answer: with `wait=True`, the last poll's `APIResponse`."""
        answer = self._resource._raw_twin().generate(
            prompt,
            model=model,
            image_url=image_url,
            size=size,
            n_seconds=n_seconds,
            aspect_ratio=aspect_ratio,
            seed=seed,
            wait=wait,
            poll_interval=poll_interval,
            timeout=timeout,
            on_progress=on_progress,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
        )
        return cast("APIResponse[VideoGeneration]", answer)


class AsyncVideos(AsyncVideosResource):
    """Video generation: `await generate()` (with `wait=True`, until it is done) and `await get()`."""

    @property
    def with_raw_response(self) -> AsyncVideosWithRawResponse:
        """The same methods, returning the HTTP answer (`APIResponse`); `generate(wait=True)` gives the
        last poll's."""
        return AsyncVideosWithRawResponse(self)

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
        timeout: Optional[float] = DEFAULT_WAIT,
        on_progress: Optional[ProgressCallback] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> VideoGeneration:
        """Start a video generation (`POST /videos/generations`); with `wait=True`, poll every
        `poll_interval` seconds until it is `completed` or `failed`, for at most `timeout` seconds in
        all (`VideoTimeoutError` then); `on_progress(generation)` (a function or a coroutine function)
        sees each state."""
        state = _Wait(wait, poll_interval, timeout, on_progress)
        with state.deadline.active():
            answer: Any = await super().generate(
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
            while True:
                generation = state.seen(answer)
                if state.on_progress is not None:
                    called = state.on_progress(generation)
                    if inspect.isawaitable(called):
                        await called
                pause = state.pause()
                if pause is None:
                    return cast("VideoGeneration", answer)
                await asyncio.sleep(pause)
                try:
                    answer = await self.get(str(state.job_id), max_retries=max_retries, extra_headers=extra_headers)
                except MeganovaError as exc:
                    _raise_for(state, exc)


class AsyncVideosWithRawResponse(AsyncVideosResourceWithRawResponse):
    """`AsyncVideos`' methods, each returning the HTTP answer as an `APIResponse`."""

    _resource: AsyncVideos

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
        timeout: Optional[float] = DEFAULT_WAIT,
        on_progress: Optional[ProgressCallback] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> APIResponse[VideoGeneration]:
        """`generate()` returning the HTTP answer: with `wait=True`, the last poll's `APIResponse`."""
        answer = await self._resource._raw_twin().generate(
            prompt,
            model=model,
            image_url=image_url,
            size=size,
            n_seconds=n_seconds,
            aspect_ratio=aspect_ratio,
            seed=seed,
            wait=wait,
            poll_interval=poll_interval,
            timeout=timeout,
            on_progress=on_progress,
            max_retries=max_retries,
            extra_headers=extra_headers,
            extra_query=extra_query,
            extra_body=extra_body,
        )
        return cast("APIResponse[VideoGeneration]", answer)
