"""`dlq top`: exact counts over the whole DLQ, and its cache (full hit, append-only, rescan)."""
from __future__ import annotations

import json
import time
from collections import Counter

from bot.services.dlq_top import dlq_top
from tests.factories import add_dlq

T0 = 1_764_000_000_000
TYPES = ["approval.item.created", "crm.contact.created", "agent.run.completed"]

ON_CLUSTER = True  # also on a 3-primary Redis Cluster: default names (three slots) and hash-tagged


def seed(r, stream, n, start=0):
    expected = Counter()
    for i in range(start, start + n):
        t = TYPES[i % 3] if i % 7 else TYPES[0]
        add_dlq(r, stream, T0 + i, type_=t, tenant=f"ws_{i % 4}",
                error=f"timeout after {5000 + i}ms for ap_{i}" if i % 2 else f'duplicate key "k{i}"')
        expected[t] += 1
    return expected


def test_counts_are_exact_over_the_whole_dlq(bus):
    expected = seed(bus.r, bus.keys.dlq, 2500)  # more than one scan batch
    top = dlq_top(bus, 10)
    assert top.total == 2500 and top.source == "scan" and top.read == 2500
    assert {row.key: row.count for row in top.by_type} == dict(expected)
    assert [(row.key, row.count) for row in top.by_signature] == [
        ('duplicate key "…"', 1250), ("timeout after <n>ms for <id>", 1250)]
    assert top.by_signature[1].newest_id == f"{T0 + 2499}-0"
    assert sorted(row.count for row in top.by_tenant) == [625] * 4


def test_repeat_is_served_from_cache_then_incremental_then_rescan(bus):
    r, dlq = bus.r, bus.keys.dlq
    seed(r, dlq, 300)
    first = dlq_top(bus, 10)
    again = dlq_top(bus, 10)
    assert (again.source, again.read) == ("cache", 0)
    assert again.by_type == first.by_type and again.total == 300
    seed(r, dlq, 20, start=300)
    grown = dlq_top(bus, 10)
    assert (grown.source, grown.read, grown.total) == ("incremental", 20, 320)
    assert grown.by_type[0].key == TYPES[0] and grown.by_type[0].newest_id == f"{T0 + 318}-0"
    r.xdel(dlq, f"{T0 + 1}-0")
    after_delete = dlq_top(bus, 10)
    assert (after_delete.source, after_delete.total) == ("scan", 319)
    r.xadd(dlq, {"event": "{not json"}, id=f"{T0 + 10_000}-0")
    r.xdel(dlq, f"{T0 + 2}-0")  # an add and a delete together: length unchanged, counts not
    mixed = dlq_top(bus, 10)
    assert (mixed.source, mixed.total, mixed.malformed) == ("scan", 319, 1)


def test_dlq_of_malformed_entries(bus):
    r, dlq = bus.r, bus.keys.dlq
    for i in range(40):
        r.xadd(dlq, {"garbage": str(i)} if i % 2 else {"event": "{broken", "error": "x"}, id=f"{T0 + i}-0")
    r.xadd(dlq, {"event": json.dumps({"id": "e"}), "error": ""}, id=f"{T0 + 99}-0")
    top = dlq_top(bus, 5)
    assert top.total == 41 and top.malformed == 40
    assert [(row.key, row.count) for row in top.by_type] == [("<malformed>", 40), ("<unknown>", 1)]
    assert ("<no error message>", 21) in [(row.key, row.count) for row in top.by_signature]


def test_a_cache_of_another_layout_is_ignored(bus):
    seed(bus.r, bus.keys.dlq, 10)
    bus.r.set(bus.keys.dlq_top_cache(bus.keys.dlq), json.dumps({"fp": {}, "type": {"x": [1, "1-0", None]}}))
    top = dlq_top(bus, 10)
    assert (top.source, top.total) == ("scan", 10)


def test_empty_and_missing_dlq(bus):
    missing = dlq_top(bus, 10)
    assert (missing.total, missing.by_type) == (0, [])
    bus.r.xadd(bus.keys.dlq, {"event": "{}"}, id="1-1")
    bus.r.xdel(bus.keys.dlq, "1-1")
    empty = dlq_top(bus, 10)
    assert empty.total == 0 and empty.by_signature == []


def test_a_second_reader_waits_for_the_first_instead_of_reading_again(bus):
    """While another process holds the lock, dlq top waits and answers from its cache."""
    import threading
    r, dlq = bus.r, bus.keys.dlq
    seed(r, dlq, 500)
    dlq_top(bus, 10)
    cache_key, lock_key = bus.keys.dlq_top_cache(dlq), bus.keys.dlq_top_lock(dlq)
    result_of_other_reader = r.get(cache_key)
    r.delete(cache_key)
    r.set(lock_key, "other-process", px=20_000)

    def other_reader_finishes():
        r.set(cache_key, result_of_other_reader)
        r.delete(lock_key)
    timer = threading.Timer(0.3, other_reader_finishes)
    timer.start()
    top = dlq_top(bus, 10)
    timer.join()
    assert (top.source, top.read, top.total) == ("cache", 0, 500)
    assert r.get(lock_key) is None


def test_a_stale_lock_only_delays(bus):
    r, dlq = bus.r, bus.keys.dlq
    seed(r, dlq, 50)
    r.set(bus.keys.dlq_top_lock(dlq), "crashed-process", px=200)
    top = dlq_top(bus, 10)
    assert (top.source, top.total) == ("scan", 50)


def test_a_reader_slower_than_the_lock_keeps_it_and_the_next_one_waits(bus, monkeypatch):
    """A read that outlasts the lock's expiry (a slow Redis, a large DLQ) renews the lock,
    so a second reader waits for its result instead of reading the whole DLQ again."""
    import threading

    import bot.services.dlq_top as top_module
    from bot.services.entry_keys import EntryKeys
    r, dlq = bus.r, bus.keys.dlq
    seed(r, dlq, 2500)  # two pages
    monkeypatch.setattr(top_module, "SCAN_BATCH", 500)
    monkeypatch.setattr(top_module, "LOCK_MS", 1500)
    first_page, scans = threading.Event(), []
    page = EntryKeys.page

    def slow_page(self, rows):
        scans.append(len(rows))
        first_page.set()
        time.sleep(0.6)  # a large page: five outlast the 1.5 s lock; each leaves 0.9 s to renew it
        return page(self, rows)
    monkeypatch.setattr(EntryKeys, "page", slow_page)
    answers = {}
    reader = threading.Thread(target=lambda: answers.setdefault("first", dlq_top(bus, 10)))
    reader.start()
    assert first_page.wait(10)
    second = dlq_top(bus, 10)
    reader.join(10)
    assert answers["first"].source == "scan" and second.source == "cache"
    assert second.total == 2500 and sum(scans) == 2500  # the DLQ was read once
