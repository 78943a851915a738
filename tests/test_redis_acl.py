"""busbot works with exactly the ACL rights docs/redis.md gives each role (a read-only
busbot, an operator busbot, the worker), against a real redis-server whose users are made
from the rules on that page; a refused command is answered in one sentence."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import redis

from bot.bus import Bus
from bot.connection import connect
from bot.eventbus.handlers import Handlers
from bot.jobs import store
from bot.settings import Settings
from commands import router
from tests.conftest import FakeClock
from tests.eventbus.helpers import make_worker, publish
from tests.factories import add_dlq, add_event
from tests.guard_helpers import buttons
from tests.redis_server import RedisServer, require_binary
from tests.runtime_helpers import manual_runtime
from tests.test_guarded_flow import run_jobs

DOC = Path(__file__).resolve().parents[1] / "docs" / "redis.md"
PASSWORD = "acl-Test-pw-7"
T0 = 1_764_000_000_000


def cluster_rules() -> list[str]:
    """What docs/redis.md adds to each rule on a Redis Cluster."""
    [extra] = re.findall(r"On a Redis Cluster add `([^`]+)`", DOC.read_text())
    return extra.split()


def doc_rules() -> dict[str, list[str]]:
    """user name -> the ACL SETUSER rules docs/redis.md gives it (password replaced)."""
    rules = {}
    for line in DOC.read_text().splitlines():
        m = re.match(r"ACL SETUSER (\S+) (.+)$", line.strip())
        if m:
            rules[m.group(1)] = [w.replace(">CHANGE-ME", f">{PASSWORD}") for w in m.group(2).split()]
    return rules


@pytest.fixture(scope="module")
def acl_server():
    if not require_binary():
        pytest.skip("redis-server not installed (CI installs it)")
    server = RedisServer().start()
    admin = redis.Redis(port=server.port, decode_responses=True)
    for user, rules in doc_rules().items():
        admin.execute_command("ACL", "SETUSER", user, "reset", *rules)
    yield server, admin
    server.stop()


@pytest.fixture
def admin(acl_server):
    _, client = acl_server
    client.flushdb()
    client.execute_command("ACL", "LOG", "RESET")
    return client


EXPECTED = {"command config|get"}  # `/bus redis` says persistence is unknown without CONFIG


def refusals(admin) -> list[str]:
    """What the ACL refused since the last reset, besides what busbot expects to be refused."""
    seen = [f"{e['reason']} {e['object']}" for e in admin.execute_command("ACL", "LOG")]
    return [s for s in seen if s not in EXPECTED]


def bus_as(acl_server, user: str, **settings) -> Bus:
    server, _ = acl_server
    s = Settings(_env_file=None, **settings)
    return Bus(connect(f"redis://{user}:{PASSWORD}@127.0.0.1:{server.port}/0"), s,
               clock=FakeClock(T0 + 60_000), where="acl test redis")


def seed(admin, s: Settings, n: int = 6) -> list[str]:
    ids = [add_dlq(admin, s.bus_dlq_stream, T0 + i, type_="crm.contact.created")[0] for i in range(n)]
    for i in range(n):
        add_event(admin, s.bus_events_stream, T0 + i)
    admin.xgroup_create(s.bus_events_stream, s.bus_group, id="0")
    admin.xadd(s.bus_metadata_stream, {"eventId": "e1", "type": "crm.contact.created", "status": "failed",
                                        "durationMs": "12", "group": s.bus_group, "consumer": "c1"})
    return ids


def test_the_page_gives_a_rule_for_each_role():
    assert set(doc_rules()) == {"busbot-viewer", "busbot-operator", "busbot-worker"}
    for rules in doc_rules().values():  # never the dangerous commands, always a password
        assert "-@dangerous" in rules and "+@all" not in rules and any(r.startswith(">") for r in rules)


VIEWER_COMMANDS = ["help", "events", "events 3 type=approval.item.created",
                   f"event {T0 + 1}-0", "redis", "dlq top", "dlq list", f"dlq show {T0 + 2}-0",
                   "jobs", "alerts", "audit", "reprocess all"]


def test_a_read_only_busbot_answers_every_read_command(acl_server, admin):
    bus = bus_as(acl_server, "busbot-viewer")
    seed(admin, bus.settings)
    rt = manual_runtime(bus)
    for text in VIEWER_COMMANDS:
        reply = router.run(text, rt, "U1")
        assert reply.template != "error" or "Only busbot operators" in reply.text, (text, reply.text)
        assert refusals(admin) == [], text
    assert "Only busbot operators" in router.run("reprocess all", rt, "U1").text  # refused by busbot
    assert refusals(admin) == []
    redis_reply = router.run("redis", rt, "U1")
    assert redis_reply.context["mode"] == "standalone" and redis_reply.context["i"].save is None  # CONFIG refused


@pytest.mark.parametrize("text", ["health", "groups", "dlq"])
def test_a_read_only_busbot_answers_health_and_the_dlq_summary(acl_server, admin, text):
    bus = bus_as(acl_server, "busbot-viewer")
    seed(admin, bus.settings)
    assert router.run(text, manual_runtime(bus), "U1").template != "error"
    assert refusals(admin) == []


def test_a_refused_command_is_one_sentence_naming_it(acl_server, admin):
    """An operator busbot run with the viewer's rights: the job's write is refused by the ACL,
    and a command refused inside Redis is answered with a sentence naming the key."""
    bus = bus_as(acl_server, "busbot-viewer", bus_operators="U1")
    seed(admin, bus.settings)
    rt = manual_runtime(bus)
    reply = router.run("pause", rt, "U1")
    if reply.template == "guard_preview":
        reply = router.run_action("guard_confirm", buttons(reply)["guard_confirm"]["value"], rt, "U1")
    assert reply.template == "error", reply.text
    assert "ACL does not allow busbot's user" in reply.text and "hyvve:events" in reply.text
    assert "docs/redis.md" in str(reply.context["hint"]) and "Traceback" not in reply.text
    assert refusals(admin)


def test_an_operator_busbot_runs_the_guarded_actions(acl_server, admin):
    bus = bus_as(acl_server, "busbot-operator", bus_operators="U1,U2")
    ids = seed(admin, bus.settings)
    rt = manual_runtime(bus)

    def confirm(text: str, approve: bool = False):
        reply = router.run(text, rt, "U1")
        assert reply.template == "guard_preview", (text, reply.text)
        reply = router.run_action("guard_confirm", buttons(reply)["guard_confirm"]["value"], rt, "U1")
        if approve:
            reply = router.run_action("guard_approve", buttons(reply)["guard_approve"]["value"], rt, "U2")
        assert reply.template != "error", (text, reply.text)
        run_jobs(bus)
        return reply

    confirm(f"reprocess {ids[0]}")
    confirm("reprocess type=crm.contact.created", approve=True)
    add_dlq(admin, bus.settings.bus_dlq_stream, T0 + 100)
    confirm(f"dlq delete {T0 + 100}-0")
    confirm("replay from=2025-11-24T16:00:00Z to=2025-11-24T16:00:01Z", approve=True)
    confirm("pause")
    confirm("resume")
    admin.xgroup_setid(bus.settings.bus_events_stream, bus.settings.bus_group, "$")  # all delivered
    before = admin.xlen(bus.settings.bus_events_stream)
    confirm("trim 3", approve=True)
    assert admin.xlen(bus.settings.bus_dlq_stream) == 0 and admin.xlen(bus.settings.bus_events_stream) < before
    statuses = {store.get(bus, j).status for j in admin.zrange(bus.keys.jobs_index, 0, -1)}
    assert statuses == {"COMPLETED"}
    assert refusals(admin) == []


def test_the_worker_consumes_retries_and_dead_letters(acl_server, admin):
    bus = bus_as(acl_server, "busbot-worker")
    publish(bus, "crm.contact.created", n=3)
    done: list[str] = []

    def handle(msg):
        if msg.event["data"]["n"] == 2:
            raise RuntimeError("crm-sync answered 503")
        done.append(msg.event["id"])
    h = Handlers()
    h.register("crm.*", handle)
    worker = make_worker(bus, h, delays=(0,), attempts=2)
    worker.poll()
    worker.poll()
    worker.poll()
    assert len(done) == 2 and admin.xlen(bus.settings.bus_dlq_stream) == 1
    assert refusals(admin) == []


def test_on_a_cluster_with_the_cluster_additions(redis_cluster):
    nodes = [redis.Redis(port=p, decode_responses=True) for p in redis_cluster.ports]
    for node in nodes:
        node.execute_command("ACL", "LOG", "RESET")
        for user, rules in doc_rules().items():
            node.execute_command("ACL", "SETUSER", f"{user}-c", "reset", *rules, *cluster_rules())
    for user in ("busbot-viewer-c", "busbot-operator-c"):
        bus = Bus(connect(f"redis://{user}:{PASSWORD}@127.0.0.1:{redis_cluster.ports[0]}/0"),
                  Settings(_env_file=None, bus_operators="U1"), where="acl test cluster")
        assert bus.mode == "cluster"
        rt = manual_runtime(bus)
        for text in ("redis", "events", "dlq top", "dlq list", "jobs", "audit", "alerts"):
            assert router.run(text, rt, "U1").template != "error", (user, text)
    denied = {f"{e['reason']} {e['object']}" for node in nodes for e in node.execute_command("ACL", "LOG")}
    assert denied <= EXPECTED


def test_a_cluster_without_them_is_refused_in_one_sentence(redis_cluster):
    from bot.redis_errors import describe

    node = redis.Redis(port=redis_cluster.ports[0])
    node.execute_command("ACL", "SETUSER", "busbot-bare", "reset", *doc_rules()["busbot-viewer"])
    with pytest.raises(redis.ConnectionError) as caught:  # never a standalone client of one node
        connect(f"redis://busbot-bare:{PASSWORD}@127.0.0.1:{redis_cluster.ports[0]}/0")
    sentence, hint = describe(caught.value, "cluster")
    assert "`CLUSTER|SLOTS` command" in sentence and "docs/redis.md" in hint
