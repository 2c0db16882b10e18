"""`meganova.testing`: a local MegaNova API server for tests and demos, standard library only.

    from meganova.testing import MockServer

    with MockServer() as server:                  # http://127.0.0.1:<free port>/v1, key "test"
        server.enqueue(status=429, headers={"Retry-After": "0"})   # the next request gets a 429
        client = MegaNova(api_key=server.api_key, base_url=server.url)
        client.chat.create(model="meganova-ai/manta-flash-1.0", messages=[...])
        assert len(server.requests) == 2

Besides chat, models, usage and billing it answers embeddings, images, audio, rerank, videos, the
serverless catalogue (on `server.root_url`) and Studio agents (`server.root_url + "/agents/v1/agent_test/..."`).

Run it in the foreground with `python -m meganova.testing --port 8080`.
"""

from ._agents import AGENT_KEY
from ._api import CHAT_MODELS, DEFAULT_MODEL, MODELS
from ._faults import FAULTS
from ._http import Headers, RecordedRequest
from ._server import MockServer

__all__ = ["AGENT_KEY", "CHAT_MODELS", "DEFAULT_MODEL", "FAULTS", "MODELS", "Headers", "MockServer", "RecordedRequest"]
