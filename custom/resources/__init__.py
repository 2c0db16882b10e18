"""The resources of the clients: generated from the spec (`meganova/api/<tag>/__init__.py`), with the
hand-written extras the guideline asks for added here, at the generated classes' extension points.

- `chat`: the stream class streamed answers are read with (`ChatStream` / `AsyncChatStream`).
- `models`: `list()` filters by capability or tag on the client side, as the 0.4 SDK did.
- `usage`, `billing`: as generated.
"""

from ...api.billing import AsyncBillingResource as AsyncBilling
from ...api.billing import BillingResource as Billing
from ...api.usage import AsyncUsageResource as AsyncUsage
from ...api.usage import UsageResource as Usage
from .chat import AsyncChat, Chat
from .models import AsyncModels, Models

__all__ = ["AsyncBilling", "AsyncChat", "AsyncModels", "AsyncUsage", "Billing", "Chat", "Models", "Usage"]
