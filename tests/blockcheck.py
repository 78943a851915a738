"""Check a rendered message against Block Kit (slack_sdk's models) and Slack's limits."""
from __future__ import annotations

from slack_sdk.models.blocks import Block

LIMITS = {"section": 3000, "field": 2000, "header": 150, "button": 75, "value": 2000, "id": 255,
          "context": 3000}


def _check_element(el: dict) -> None:
    if el.get("type") == "button":
        assert len(el["text"]["text"]) <= LIMITS["button"], el
        assert len(el.get("value", "")) <= LIMITS["value"], el
        assert len(el["action_id"]) <= LIMITS["id"], el
        if "confirm" in el:
            assert len(el["confirm"]["title"]["text"]) <= 100
            assert len(el["confirm"]["text"]["text"]) <= 300


def assert_valid_message(message: dict) -> list:
    """Parse with slack_sdk (raises on unknown shapes), round-trip, and check limits."""
    blocks = message["blocks"]
    assert isinstance(message.get("text"), str) and message["text"], "fallback text missing"
    assert 0 < len(blocks) <= 50, f"{len(blocks)} blocks"
    parsed = Block.parse_all(blocks)
    assert len(parsed) == len(blocks) and all(p is not None for p in parsed)
    for b, p in zip(blocks, parsed):
        d = p.to_dict()  # validates lengths slack_sdk knows about
        assert d["type"] == b["type"]
        if b["type"] == "section":
            if "text" in b:
                assert len(b["text"]["text"]) <= LIMITS["section"]
            for f in b.get("fields", []):
                assert len(f["text"]) <= LIMITS["field"]
            assert len(b.get("fields", [])) <= 10
            if "accessory" in b:
                _check_element(b["accessory"])
        elif b["type"] == "header":
            assert len(b["text"]["text"]) <= LIMITS["header"]
        elif b["type"] == "actions":
            assert len(b["elements"]) <= 25
            for el in b["elements"]:
                _check_element(el)
        elif b["type"] == "context":
            assert len(b["elements"]) <= 10
    return parsed
