"""A rendered reply -> the message Slack gets: the "Post to channel" button, "shared by",
the response type (from the reply's visibility), and never more than 50 blocks."""
from __future__ import annotations

from bot.render import MAX_BLOCKS, clip
from commands.reply import Reply

SHARE_ACTION = "bus_share"
RESPONSE_TYPES = {"private": "ephemeral", "channel": "in_channel"}  # a reply's visibility in Slack terms
MAX_ACTIONS = 25  # elements in one actions block


def share_button(command: str) -> dict:
    return {"type": "button", "action_id": SHARE_ACTION, "value": clip(command, 2000),
            "text": {"type": "plain_text", "text": "Post to channel", "emoji": True}}


def shared_by_line(user_id: str) -> dict:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": f"shared by <@{user_id}>"}]}


def with_share_button(blocks: list[dict], command: str) -> list[dict]:
    """Join the template's trailing buttons when there is room, else add an actions block."""
    last = blocks[-1] if blocks else None
    if last and last.get("type") == "actions" and len(last["elements"]) < MAX_ACTIONS:
        return [*blocks[:-1], {**last, "elements": [*last["elements"], share_button(command)]}]
    return [*blocks[:MAX_BLOCKS - 1], {"type": "actions", "block_id": "bus_share",
                                       "elements": [share_button(command)]}]


def for_slack(reply: Reply, message: dict) -> dict:
    """`respond()` keyword arguments for a reply rendered by `bot.render.render_reply`."""
    blocks = list(message.get("blocks", []))
    if reply.context.get("shared_by"):
        blocks = [shared_by_line(reply.context["shared_by"]), *blocks[:MAX_BLOCKS - 1]]
    if reply.shareable and reply.command:  # long command text is kept in Redis behind share_value
        blocks = with_share_button(blocks, reply.context.get("share_value") or reply.command)
    return {"text": message["text"], "blocks": blocks, "response_type": RESPONSE_TYPES[reply.visibility]}
