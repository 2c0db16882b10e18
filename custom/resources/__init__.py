"""The resources of the clients: generated from the spec (`meganova/api/<tag>/__init__.py`), with the
hand-written extras the guideline and the 0.4 SDK's users ask for added here, at the generated
classes' extension points (`_stream_class`, `_before_request`, or a method of the same name).

- `chat`: `ChatStream` for streamed answers; `chat.completions` (OpenAI-shaped chunks).
- `models`: `list(capability=, type=)` filters on the client side, as the 0.4 SDK did; a list with `.data`.
- `images`: `width` + `height` become `size` (else refused). `audio`: `stt`, the guideline's name for
  `transcribe`; `speech.create` and `transcriptions.create`, openai-python's.
- `videos`: `generate(wait=True)` polls until the video is done, under one deadline, `on_progress=`.
- `embeddings`: `create()` typed by `encoding_format` (a float vector is `List[float]`).
- `rerank`, `serverless`, `usage`, `billing`: as generated.
"""

from ...api.billing import AsyncBillingResource as AsyncBilling
from ...api.billing import BillingResource as Billing
from ...api.rerank import AsyncRerankResource as AsyncRerank
from ...api.rerank import RerankResource as Rerank
from ...api.serverless import AsyncServerlessResource as AsyncServerless
from ...api.serverless import ServerlessResource as Serverless
from ...api.usage import AsyncUsageResource as AsyncUsage
from ...api.usage import UsageResource as Usage
from .audio import AsyncAudio, Audio
from .chat import AsyncChat, Chat
from .embeddings import AsyncEmbeddings, Embeddings
from .images import AsyncImages, Images
from .models import AsyncModels, Models
from .videos import AsyncVideos, Videos

__all__ = [
    "AsyncAudio",
    "AsyncBilling",
    "AsyncChat",
    "AsyncEmbeddings",
    "AsyncImages",
    "AsyncModels",
    "AsyncRerank",
    "AsyncServerless",
    "AsyncUsage",
    "AsyncVideos",
    "Audio",
    "Billing",
    "Chat",
    "Embeddings",
    "Images",
    "Models",
    "Rerank",
    "Serverless",
    "Usage",
    "Videos",
]
