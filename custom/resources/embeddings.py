"""`client.embeddings`: embeddings (`create`), generated from the spec, typed by `encoding_format`.

Extension: `create()` has overloads on `encoding_format`, so that type checkers see each vector as
it comes: left out or `"float"` → `FloatEmbeddingResponse` (`data[i].embedding` is `List[float]`),
`"base64"` → `Base64EmbeddingResponse` (a `str`). At run time both are the generated
`EmbeddingResponse` (the names exist for type checkers only); `floats()` gives the numbers either way.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, List, Literal, Mapping, Optional, Sequence, Union, overload

from ...api.embeddings import AsyncEmbeddingsResource, EmbeddingsResource

if TYPE_CHECKING:
    import httpx

    from ...models.embedding import Embedding
    from ...models.embedding_encoding_format import EmbeddingEncodingFormat
    from ...models.embedding_response import EmbeddingResponse

    class FloatEmbedding(Embedding):
        """An `Embedding` whose vector came as numbers."""

        embedding: List[float]  # type: ignore[assignment, unused-ignore]

    class Base64Embedding(Embedding):
        """An `Embedding` whose vector came as base64 text (`floats()` decodes it)."""

        embedding: str  # type: ignore[assignment, unused-ignore]

    class FloatEmbeddingResponse(EmbeddingResponse):
        """An `EmbeddingResponse` asked for with `encoding_format` left out or `"float"`."""

        data: List[FloatEmbedding]  # type: ignore[assignment, unused-ignore]

    class Base64EmbeddingResponse(EmbeddingResponse):
        """An `EmbeddingResponse` asked for with `encoding_format="base64"`."""

        data: List[Base64Embedding]  # type: ignore[assignment, unused-ignore]


Input = Union[str, Sequence[str], Sequence[int], Sequence[Sequence[int]]]


class Embeddings(EmbeddingsResource):
    """Embeddings: `create(input, model)`, its vectors typed by `encoding_format`."""

    @overload  # type: ignore[override]
    def create(
        self,
        input: Input,
        model: str,
        *,
        encoding_format: Optional[Literal["float"]] = None,
        dimensions: Optional[int] = None,
        user: Optional[str] = None,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> FloatEmbeddingResponse: ...
    @overload
    def create(
        self,
        input: Input,
        model: str,
        *,
        encoding_format: Literal["base64"],
        dimensions: Optional[int] = None,
        user: Optional[str] = None,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> Base64EmbeddingResponse: ...
    @overload
    def create(
        self,
        input: Input,
        model: str,
        *,
        encoding_format: Union[EmbeddingEncodingFormat, str, None] = None,
        dimensions: Optional[int] = None,
        user: Optional[str] = None,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> EmbeddingResponse: ...
    def create(self, input: Input, model: str, **kwargs: Any) -> EmbeddingResponse:
        """Create embeddings (`POST /embeddings`): one vector per input, in order; with
        `encoding_format="base64"` each is a base64 text (`floats()` decodes it)."""
        return super().create(input, model, **kwargs)


class AsyncEmbeddings(AsyncEmbeddingsResource):
    """Embeddings: `await create(input, model)`, its vectors typed by `encoding_format`."""

    @overload  # type: ignore[override]
    async def create(
        self,
        input: Input,
        model: str,
        *,
        encoding_format: Optional[Literal["float"]] = None,
        dimensions: Optional[int] = None,
        user: Optional[str] = None,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> FloatEmbeddingResponse: ...
    @overload
    async def create(
        self,
        input: Input,
        model: str,
        *,
        encoding_format: Literal["base64"],
        dimensions: Optional[int] = None,
        user: Optional[str] = None,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> Base64EmbeddingResponse: ...
    @overload
    async def create(
        self,
        input: Input,
        model: str,
        *,
        encoding_format: Union[EmbeddingEncodingFormat, str, None] = None,
        dimensions: Optional[int] = None,
        user: Optional[str] = None,
        timeout: Union[float, httpx.Timeout, None] = None,
        max_retries: Optional[int] = None,
        extra_headers: Optional[Mapping[str, str]] = None,
        extra_query: Optional[Mapping[str, Any]] = None,
        extra_body: Optional[Mapping[str, Any]] = None,
    ) -> EmbeddingResponse: ...
    async def create(self, input: Input, model: str, **kwargs: Any) -> EmbeddingResponse:
        """Create embeddings (`POST /embeddings`): one vector per input, in order; with
        `encoding_format="base64"` each is a base64 text (`floats()` decodes it)."""
        return await super().create(input, model, **kwargs)
