"""`busbot publish`, `busbot worker` and `busbot demo-load`: the event bus from a terminal.

All three need a real Redis (REDIS_URL or --redis): an embedded one would vanish with
the process.
"""
from __future__ import annotations

import argparse
import importlib
import json
import os
import signal
import socket
import sys
import threading

from bot.bus import Bus
from bot.connection import open_bus
from bot.eventbus import demo_load
from bot.eventbus.demo_load import TrafficPublisher, demo_handlers, parse_fail_spec
from bot.eventbus.event import new_event
from bot.eventbus.handlers import Handlers
from bot.eventbus.publisher import Publisher
from bot.eventbus.retry import RetryPolicy
from bot.eventbus.worker import Worker, WorkerConfig, ensure_group
from bot.settings import Settings

DEMO_GROUP = "busbot-demo"  # demo-load's group unless --group: it must never eat the platform's events


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("publish", help="publish one event to the main stream")
    p.add_argument("type", help="event type, e.g. approval.item.created")
    p.add_argument("--data", default="{}", help="the event's `data` as a JSON object")
    p.add_argument("--tenant", required=True, help="tenantId, e.g. ws_123")
    p.add_argument("--user", default=None, help="userId")
    p.add_argument("--source", default="platform")
    p.add_argument("--correlation-id", default=None, help="default: a new id")
    p.add_argument("--maxlen", type=int, default=None,
                   help="trim the stream to about this many entries (MAXLEN ~)")
    _redis_arg(p)
    p.set_defaults(func=publish_cmd)

    w = sub.add_parser("worker", help="consume the main stream in a group and run handlers")
    _worker_args(w)
    w.add_argument("--handlers", action="append", default=[], metavar="MODULE",
                   help="module with register(handlers); repeatable. Without one, every "
                        "event is unhandled: acknowledged and counted")
    w.set_defaults(func=worker_cmd)

    d = sub.add_parser("demo-load", help="publish demo traffic and run a worker whose "
                                         "handlers fail at given rates")
    _worker_args(d, group_required=False)
    d.add_argument("--rate", type=float, default=200.0, help="events per second")
    d.add_argument("--fail", default="", metavar="TYPE=RATE,...",
                   help="per-attempt failure rate by type pattern, e.g. "
                        "crm.contact.created=0.3,approval.*=0.1")
    d.add_argument("--duration", type=float, default=None, help="seconds; default: until ^C")
    d.add_argument("--time-scale", type=float, default=0.02,
                   help="handler durations relative to the real ones (default 0.02)")
    d.add_argument("--retry-delays", default=None, metavar="S,S,...",
                   help="override BUS_RETRY_DELAYS for the demo, e.g. 2,5")
    d.add_argument("--yes", action="store_true",
                   help="write demo events even into a stream that other consumer groups read")
    d.set_defaults(func=demo_load_cmd)


def _redis_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--redis", dest="redis_url", metavar="URL", default=None, help="default: $REDIS_URL")


def _worker_args(p: argparse.ArgumentParser, group_required: bool = True) -> None:
    p.add_argument("--group", required=group_required, default=None,
                   help="consumer group" + ("" if group_required else f" (default {DEMO_GROUP}: never the platform's)"))
    p.add_argument("--consumer", default=socket.gethostname(),
                   help="consumer name (default: the host name)")
    p.add_argument("--start-id", default="$",
                   help="where a group this creates starts: $ (new events) or 0 (all)")
    p.add_argument("--batch", type=int, default=100, help="entries per read")
    _redis_arg(p)


def _bus(settings: Settings, args) -> Bus | None:
    if not (args.redis_url or settings.redis_url):
        print(f"busbot {args.subcommand}: needs a real Redis: set REDIS_URL or pass "
              "--redis URL", file=sys.stderr)
        return None
    return open_bus(settings, args.redis_url)


def publish_cmd(settings: Settings, args) -> int:
    try:
        data = json.loads(args.data)
    except ValueError as exc:
        print(f"busbot publish: --data is not JSON ({exc})", file=sys.stderr)
        return 2
    if not isinstance(data, dict):
        print("busbot publish: --data must be a JSON object", file=sys.stderr)
        return 2
    bus = _bus(settings, args)
    if bus is None:
        return 2
    event = new_event(args.type, data, tenant=args.tenant, user=args.user,
                      source=args.source, correlation_id=args.correlation_id, clock=bus.clock)
    entry_id = Publisher(bus, maxlen=args.maxlen).publish(event)
    print(f"{entry_id} {event['id']}")
    return 0


def load_handlers(modules: list[str]) -> Handlers:
    """Each module's `register(handlers)` adds its handlers to one registry. Modules are
    looked up from the current directory too, as `python -m` would."""
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    handlers = Handlers()
    for name in modules:
        try:
            module = importlib.import_module(name)
        except ImportError as exc:
            raise SystemExit(f"busbot worker: cannot import handlers module {name} ({exc})") from None
        register = getattr(module, "register", None)
        if not callable(register):
            raise SystemExit(f"busbot worker: {name} has no register(handlers) function")
        register(handlers)
    return handlers


def _config(settings: Settings, args, **overrides) -> WorkerConfig:
    return WorkerConfig.from_settings(settings, args.group or DEMO_GROUP,
                                      args.consumer, start_id=args.start_id,
                                      batch=args.batch, **overrides)


def _run_until_signalled(worker: Worker) -> int:
    """SIGTERM or ^C: stop reading, finish the batch in hand, exit 0."""
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: worker.stop())
    stats = worker.run()
    print(json.dumps(stats.__dict__), file=sys.stderr)
    return 0


def worker_cmd(settings: Settings, args) -> int:
    bus = _bus(settings, args)
    if bus is None:
        return 2
    try:
        worker = Worker(bus, load_handlers(args.handlers), _config(settings, args))
    except ValueError as exc:  # a time limit the claim idle cannot cover
        print(f"busbot worker: {exc}; raise BUS_CLAIM_IDLE or shorten the limit",
              file=sys.stderr)
        return 2
    return _run_until_signalled(worker)


def demo_load_cmd(settings: Settings, args) -> int:
    try:
        rates = parse_fail_spec(args.fail)
        overrides = {}
        if args.retry_delays:
            delays = tuple(float(s) for s in args.retry_delays.split(","))
            if min(delays) < 0:
                raise ValueError("--retry-delays must be seconds >= 0")
            overrides["retry"] = RetryPolicy(delays, settings.bus_max_attempts)
        config = _config(settings, args, **overrides)
    except ValueError as exc:
        print(f"busbot demo-load: {exc}", file=sys.stderr)
        return 2
    bus = _bus(settings, args)
    if bus is None:
        return 2
    readers = demo_load.other_readers(bus, config.group)
    if readers and not args.yes:
        print(demo_load.refusal(bus, readers, args.rate), file=sys.stderr)
        return 2
    created = ensure_group(bus, config.group, config.start_id)
    print(demo_load.plan(bus, config.group, args.rate, args.duration, created, readers), file=sys.stderr)
    worker = Worker(bus, demo_handlers(rates, args.time_scale), config)
    traffic = TrafficPublisher(bus, args.rate)
    publishing = traffic.start(args.duration)
    if args.duration is not None:
        threading.Timer(args.duration, worker.stop).start()
    try:
        code = _run_until_signalled(worker)
    finally:
        traffic.stop()
        publishing.join(10)  # nothing published after the clean-up
        print(f"published {traffic.published} events; "
              f"{demo_load.clean_up(bus, config.group, config.consumer, created)}", file=sys.stderr)
    return code

