"""Button clicks (block_actions): Post to channel, paging, and buttons of old messages."""
from __future__ import annotations

from tests.e2e.blocks import buttons, valid_message
from tests.e2e.slack_stub import action_body


def click(bot, stub, action_id: str, value: str, name: str, user: str = "U0BOB") -> dict:
    status, body = bot.post_signed(action_body(action_id, value, stub.response_url(name), user))
    assert (status, body) == (200, "")
    return stub.wait_for(f"/response/{name}")[0]


def test_post_to_channel_shares_the_answer_for_everyone(bot, stub, ask):
    private = ask("health", user="U0ALICE")
    msg = click(bot, stub, "bus_share", buttons(private)["bus_share"], "share", user="U0BOB")
    valid_message(msg)
    assert msg["response_type"] == "in_channel"
    assert msg["replace_original"] is False
    assert msg["blocks"][0]["elements"][0]["text"] == "shared by <@U0BOB>"
    assert "bus_share" not in buttons(msg), "a shared answer is not offered again"
    assert msg["text"] == private["text"]


def test_paging_button_replaces_the_message_with_the_next_page(bot, stub, bus, ask):
    ids = [bus.r.xadd(bus.keys.events, {"event": f'{{"id": "ev{n}", "type": "crm.contact.created"}}'})
           for n in range(12)]
    first = ask("events 5")
    msg = click(bot, stub, "bus_run", buttons(first)["bus_run"], "page")
    valid_message(msg)
    assert msg["replace_original"] is True
    assert msg["response_type"] == "ephemeral"
    table = "".join(b["text"]["text"] for b in msg["blocks"] if b["type"] == "section" and "```" in b["text"]["text"])
    assert [i for i in ids if i in table] == ids[2:7], "the next five, older ones"


def test_button_of_an_old_message_gets_a_sentence(bot, stub):
    msg = click(bot, stub, "bus_retired_button", "x", "old")
    valid_message(msg)
    assert "no longer does anything" in msg["text"]
