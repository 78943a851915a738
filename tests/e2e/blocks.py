"""Every message the bot sends must be Block Kit that slack_sdk accepts, within 50 blocks."""
from __future__ import annotations

from slack_sdk.models.blocks import Block

from bot.render import MAX_BLOCKS


def valid_message(message: dict) -> list[dict]:
    """The blocks as slack_sdk re-serialises them; fails on unknown types or broken limits."""
    blocks = message["blocks"]
    assert 0 < len(blocks) <= MAX_BLOCKS
    assert message.get("text"), "a fallback text is required for notifications"
    parsed = Block.parse_all(blocks)
    assert all(p is not None for p in parsed), "unknown block type"  # parse_all gives None for those
    return [b.to_dict() for b in parsed]  # to_dict() validates Slack's field limits


def buttons(message: dict) -> dict[str, str]:
    """action_id -> value of every button in the message."""
    return {e["action_id"]: e.get("value", "") for b in message["blocks"] if b["type"] == "actions"
            for e in b["elements"]}
