"""The API's resources, one module each: `chat`, `models`, `usage`, `billing`.

Each module holds the pure `*_call` functions that describe a request (shared by sync and async), then the
sync resource class and its async twin, whose methods only hand that description to their client.
"""

from .billing import AsyncBilling, Billing
from .chat import AsyncChat, Chat
from .models import AsyncModels, Models
from .usage import AsyncUsage, Usage

__all__ = ["AsyncBilling", "AsyncChat", "AsyncModels", "AsyncUsage", "Billing", "Chat", "Models", "Usage"]
