"""The adapter's additions to a rendered reply: the share button, "shared by", 50 blocks."""
from __future__ import annotations

from bot.render import MAX_BLOCKS
from bot.slack.message import for_slack
from commands.reply import Reply
from tests.e2e.blocks import buttons, valid_message


def section(n: int) -> dict:
    return {"type": "section", "text": {"type": "mrkdwn", "text": f"row {n}"}}


def page_button() -> dict:
    return {"type": "button", "action_id": "bus_run", "value": "events 5 before=1-0",
            "text": {"type": "plain_text", "text": "Older"}}


def test_share_button_joins_the_paging_buttons():
    message = {"text": "t", "blocks": [section(0), {"type": "actions", "elements": [page_button()]}]}
    out = for_slack(Reply("x", command="events 5"), message)
    valid_message(out)
    assert len(out["blocks"]) == 2
    assert buttons(out) == {"bus_run": "events 5 before=1-0", "bus_share": "events 5"}


def test_a_full_message_stays_within_50_blocks():
    message = {"text": "t", "blocks": [section(n) for n in range(MAX_BLOCKS)]}
    out = for_slack(Reply("x", command="dlq list", context={"shared_by": "U1"}), message)
    valid_message(out)
    assert len(out["blocks"]) == MAX_BLOCKS
    assert out["blocks"][0]["elements"][0]["text"] == "shared by <@U1>"
    assert out["blocks"][-1]["type"] == "actions"


def test_errors_and_shared_answers_get_no_share_button():
    message = {"text": "t", "blocks": [section(0)]}
    assert "bus_share" not in buttons(for_slack(Reply("error", shareable=False, command="x"), message))
    out = for_slack(Reply("x", visibility="channel", command="health"), message)
    assert out["response_type"] == "in_channel"
