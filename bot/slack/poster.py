"""Posting and updating messages through the Web API (approvals, job progress, alerts).

`message` is what `bot.render.render_reply()` returns: {"blocks": [...], "text": "..."}.
Web API errors (`slack_sdk.errors.SlackApiError`) reach the caller unchanged.
"""
from __future__ import annotations

from slack_sdk import WebClient


class SlackPoster:
    def __init__(self, client: WebClient):
        self.client = client

    def post(self, channel: str, message: dict, thread_ts: str | None = None) -> str:
        """Post to a channel (or a thread under `thread_ts`); returns the new message's ts."""
        response = self.client.chat_postMessage(channel=channel, text=message.get("text", ""),
                                                blocks=message.get("blocks"), thread_ts=thread_ts)
        return response["ts"]

    def update(self, channel: str, ts: str, message: dict) -> None:
        """Replace the message at `ts` in place (progress, escalation, resolution)."""
        self.client.chat_update(channel=channel, ts=ts, text=message.get("text", ""),
                                blocks=message.get("blocks"))
