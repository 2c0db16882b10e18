"""The runtime core: everything between a generated operation's `Request` and the answer a user gets.

One module a concern, and each concern has one path that every endpoint inherits:

- `options`: client options, defaults, the environment; `arguments`: near-miss keyword checks.
- `request`: from a `Request` to an `httpx.Request` (headers, JSON, multipart parts).
- `send`: the two send loops (sync, async) and `RetryState`; `retry`: the pure retry decisions;
  `middleware`: the user's code around each attempt.
- `body`: the one bounded body reader (decoding in bounded steps, `max_response_bytes`);
  `download`: atomic downloads; `response`: answers into models.
- `deadline`, `deadline_backend`: the per-attempt deadline on every socket operation; `wait`: the
  deadline of waits and polls (video jobs).
- `pool`: the sharded connection pool, fork safety, connection integrity.
- `sse`: bytes into server-sent events; `streaming`: events into chunks, and the stream objects.
- `errors`: the `MeganovaError` hierarchy; `secrets`: every secret a client holds, and the one scrubber;
  `log`: the `meganova` logger; `telemetry`: OpenTelemetry spans and metrics (optional).
- `raw_client`: `client.raw`'s bridge; `raw_response`: `with_raw_response` / `with_streaming_response`.

Imports flow one way: nothing here imports the facade (the clients, resources, Studio agents, tools,
characters); the generated models are imported lazily where an answer is built.
"""
