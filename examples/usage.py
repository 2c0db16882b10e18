"""Usage: the last 30 days by model, and tokens per day."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from meganova import MegaNova

now = datetime.now(timezone.utc)
with MegaNova() as client:
    summary = client.usage.summary(from_=now - timedelta(days=30), to=now, group_by="model")
    print(f"{summary.total_requests} requests, {summary.total_tokens} tokens, {summary.cost} {summary.currency}")
    for group in summary.groups or []:
        print(f"  {group.key}: {group.total_tokens} tokens, {group.cost}")
    days = client.usage.time_range(start_time=now - timedelta(days=3), end_time=now)
    for row in days.data or []:
        print(f"  {row.date} {row.model}: {row.tokens} tokens")
