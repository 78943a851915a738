"""The fast path of `dlq top` (raw pages, msgspec, the signature memo) gives exactly the
answers of the per-entry rules (`classify`, `signature`), and folds each message shape once."""
from __future__ import annotations

import json
import random
import uuid
from collections import Counter

import pytest

import bot.services.signature as sig_module
from bot.envelope import classify
from bot.services.dlq_top import dlq_top
from bot.services.raw_read import pages
from bot.services.signature import SignatureMemo, signature
from tests.factories import add_dlq

ON_CLUSTER = True  # also on a 3-primary Redis Cluster: default names (three slots) and hash-tagged
T0 = 1_764_000_000_000


def reference(r, stream: str) -> tuple[Counter, Counter, Counter]:
    """The per-entry rules over redis-py's own dict of each entry's undecoded fields."""
    types, tenants, sigs = Counter(), Counter(), Counter()
    for _, fields in r.execute_command("XRANGE", stream, "-", "+", NEVER_DECODE=True):
        etype, tenant = classify(fields)
        types[etype] += 1
        tenants[tenant] += 1
        sigs[signature(fields.get(b"error", b"").decode("utf-8", "replace"))] += 1
    return types, tenants, sigs


def odd_entries(r, stream: str) -> None:
    """Every kind of entry the fast path hands back to the per-entry rules."""
    ev = {"id": "e1", "type": "crm.contact.created", "tenantId": "ws_1", "data": {}}
    odd = [
        {"event": json.dumps({**ev, "data": {"amount": 1e300}}).replace("1e+300", "1e999"), "error": "x"},
        {"event": json.dumps({**ev, "data": {"n": int("9" * 400)}}), "error": "x"},
        {"event": json.dumps({**ev, "data": {"n": 1.5e300}}), "error": "x"},  # in range: fine
        {"event": json.dumps({**ev, "type": 42}), "error": "x"},
        {"event": json.dumps({**ev, "type": None, "tenantId": ""}), "error": "x"},
        {"event": json.dumps({**ev, "tenantId": ["ws_1"]}), "error": "x"},
        {"event": json.dumps([ev]), "error": "x"},
        {"event": '{"type": "a", "type": "b"}', "error": "x"},
        {"event": "{broken", "error": "x"},
        {"type": "flat.event", "tenantId": "ws_9", "payload": "{}"},
        {"garbage": "1"},
        {"event": json.dumps(ev), "error": "first", "attempts": "3", "error ": "y"},
        {"error": "before the event", "event": json.dumps(ev)},
        {"event": '{"type": "bad", "tenantId": "ws_1"}', "error": "e", "errorStack": "s", "movedAt": "m",
         "attempts": "3", "event ": "x"},
    ]
    for i, fields in enumerate(odd):
        r.xadd(stream, fields, id=f"{T0 + 10_000 + i}-0")
    # a repeated field: Redis keeps both, the dict of redis-py (and classify) the last one
    r.execute_command("XADD", stream, f"{T0 + 20_000}-0", "event", json.dumps(ev), "error", "a",
                      "event", "{not json")
    r.execute_command("XADD", stream, f"{T0 + 20_001}-0", "event", json.dumps(ev), "error", "a 1",
                      "movedAt", "m", "error", "b 2")
    r.execute_command("XADD", stream, f"{T0 + 20_002}-0", "event", b'{"type": "\xff"}', "error", b"bad \xff utf-8")


def test_counts_match_the_per_entry_rules_on_odd_entries(bus):
    r, dlq = bus.r, bus.keys.dlq
    for i in range(30):
        add_dlq(r, dlq, T0 + i, type_=["a.b.c", "d.e.f"][i % 2], tenant=None if i % 5 == 0 else f"ws_{i % 3}",
                error=f"Contact {uuid.UUID(int=i)} not found" if i % 3 else f"timeout after {i}ms",
                old_format=i % 4 == 0)
    odd_entries(r, dlq)
    types, tenants, sigs = reference(r, dlq)
    top = dlq_top(bus, 50)
    assert {row.key: row.count for row in top.by_type} == dict(types)
    assert {row.key: row.count for row in top.by_tenant} == dict(tenants)
    assert {row.key: row.count for row in top.by_signature} == dict(sigs)
    assert top.malformed == types["<malformed>"] >= 5  # 1e999, 400 digits, a list, broken, garbage, ...


def test_each_message_shape_is_normalised_once(bus, monkeypatch):
    """Messages that differ only by ids and numbers (the usual DLQ) cost one normalisation
    per shape, not one per entry."""
    r, dlq = bus.r, bus.keys.dlq
    rng = random.Random(7)
    for i in range(3000):
        error = [f"Timeout after {rng.randint(1000, 9999)}ms calling approvals-service for ap_{rng.randint(1, 99999)}",
                 f"SMTP 451 temporary failure for user {rng.randint(1, 9999)}@example.com",
                 f"Contact {uuid.UUID(int=rng.getrandbits(128))} not found in CRM"][i % 3]
        add_dlq(r, dlq, T0 + i, error=error)
    calls = []
    compute = sig_module.compute
    monkeypatch.setattr(sig_module, "compute", lambda text: calls.append(text) or compute(text))
    top = dlq_top(bus, 10)
    assert sorted(row.count for row in top.by_signature) == [1000, 1000, 1000]
    assert len(calls) < 30  # one per shape (and digit count), where it was one per entry


def test_pages_read_the_whole_range_and_stop_early(bus):
    r, dlq = bus.r, bus.keys.dlq
    for i in range(25):
        add_dlq(r, dlq, T0 + i)
    got = [row[0] for page in pages(r, dlq, batch=10) for row in page]
    assert got == [f"{T0 + i}-0".encode() for i in range(25)]
    assert [len(p) for p in pages(r, dlq, f"({T0 + 19}-0", batch=5)] == [5]
    for _page in pages(r, dlq, batch=3):  # a caller that stops after one page leaves no reader behind
        break
    assert list(pages(r, "no-such-stream")) == []


def _messages(n: int) -> list[str]:
    rng = random.Random(11)
    tokens = ['"', "'", " ", "  ", "\t", "\n", "-", "_", ".", "é", "ü", "x", "ap", "ws", "c", "ab",
              "ms", "Error:", "0", "7", "42", "3.14", "9" * 14, "deadbeef" * 2, "ap_", "_1",
              "clx" + "0k2ab" * 5, "c" + "a1" * 11, "e" + "f" * 11, "cafebabe-0000-1111-2222-333344445555",
              "CAFEBABE-0000-1111-2222-333344445555", "user", "@example.com", "(", ")", "'x1'", '"k2"']
    return ["".join(rng.choice(tokens) for _ in range(rng.randint(0, 14))) for _ in range(n)]


@pytest.mark.parametrize("seed", range(3))
def test_signature_memo_equals_the_rules(seed):
    """Keys that fold digits, uuids and cuids never merge messages of different signatures."""
    memo = SignatureMemo()
    messages = _messages(4000)
    rng = random.Random(seed)
    rng.shuffle(messages)
    got = memo.many([m.encode() for m in messages])
    assert got == [signature(m) for m in messages]
    assert memo.many([b"bad \xff utf-8 1"]) == [signature("bad \ufffd utf-8 1")]


def test_masked_signature_memo_equals_masking_each_message():
    """With the default masking rules, messages that differ by digits share a memo entry
    only where masking cannot tell digits apart (no card candidate, no URL)."""
    from bot.mask import Masker
    masker = Masker()
    rng = random.Random(5)
    messages = []
    for _ in range(3000):
        n = rng.randint(0, 10**6)
        messages.append(rng.choice([
            f"SMTP 451 temporary failure for user {n}@example.com",
            f"user u{n}@x{n % 7}.io bounced after {n % 90}s",
            f"call +44 7700 {n:06d} failed",
            f"card 4242 4242 4242 {n % 10000:04d} declined",  # Luhn-valid for some, not others
            f"card {rng.choice('2345678')}{n:012d}{n % 10} declined",
            f"GET https://u:p{n}@api.example.com:{rng.choice([80, 8080, 99999, n])}/v1 failed",
            f"Authorization: Bearer abc{n}def{n} rejected",
            f"timeout after {n}ms for ap_{n}",
        ]))
    memo = SignatureMemo(masker)
    got = memo.many([m.encode() for m in messages])
    assert [m for m, sig in zip(messages, got) if sig != signature(masker.text(m))] == []
    assert len(memo.by_digits) < 200  # the e-mail, phone and bearer messages share entries


@pytest.mark.parametrize("seed", range(3))
def test_masked_signature_memo_with_uuids_and_cuids_equals_masking_each_message(seed):
    """Whether masking may change a message is asked once per shape (uuids and cuids folded):
    random messages mixing those ids with everything the default rules look for still get
    the signature of the message masked by itself."""
    from bot.mask import Masker
    masker = Masker()
    rng = random.Random(seed)
    tokens = [" ", "-", "=", ":", "/", "?", "@", "@example.com", "://", "https://", "eyJ", "eyJhbGciOi.eyJzdWIi.sig",
              "token=", "token", "Bearer ", "pwd=", "password", "key", "+1 ", "+44 7700 ", "4242 4242 4242 ", "4242",
              "555-123-4567", "(555) ", "user", "ms", "0", "7", "12", "9" * 13, "c" + "k3y" * 8, "ctoken" + "z9" * 9,
              "cafe1234-0000-1111-2222-333344445555", "12345678-1234-1234-1234-123456789012", "deadbeef" * 2]
    messages = ["".join(rng.choice(tokens) for _ in range(rng.randint(1, 9))) for _ in range(3000)]
    messages += [f"Contact {uuid.UUID(int=rng.getrandbits(128))} not found (status 404)" for _ in range(300)]
    got = SignatureMemo(masker).many([m.encode() for m in messages])
    assert [m for m, sig in zip(messages, got) if sig != signature(masker.text(m))] == []


@pytest.mark.parametrize("masked", [False, True])
def test_shapes_folded_a_page_at_a_time_give_each_message_its_own_signature(masked):
    """ASCII pages fold uuids and cuids with bytes patterns over the whole page; the memo
    they feed gives every message the signature of the message (masked by itself)."""
    from bot.mask import Masker
    masker = Masker() if masked else None
    rng = random.Random(7)
    tokens = [" ", "-", "_", "'", '"', "(", ")", "ms", "0", "42", "ap_", "c" + "a1" * 11,
              "Cafe1234-0000-1111-2222-333344445555", "user@example.com", "token=", "+1 ", "9" * 14, "x",
              "deadbeef" * 2, "e" + "f" * 11]
    messages = ["".join(rng.choice(tokens) for _ in range(rng.randint(1, 8))) for _ in range(2000)]
    messages += [f"Contact {uuid.UUID(int=rng.getrandbits(128))} not found (status {rng.randint(1, 999)})"
                 for _ in range(2000)]
    rng.shuffle(messages)
    memo = SignatureMemo(masker)
    got = [sig for i in range(0, len(messages), 500) for sig in memo.many([m.encode() for m in messages[i:i + 500]])]
    want = [signature(masker.text(m)) if masker else signature(m) for m in messages]
    assert [m for m, g, w in zip(messages, got, want) if g != w] == []
    assert memo.by_folded  # the page-folded shapes were used
    assert len([k for k in memo.by_folded if k.startswith(b"Contact <uuid>")]) <= 3  # 2,000 messages, 3 shapes
