"""The alert jobs inside `busbot serve`: checks every BUS_CHECK_INTERVAL seconds and outbox
deliveries (alerts, job progress, follow-ups) every `DELIVER_EVERY` seconds, on an
APScheduler BackgroundScheduler."""
from __future__ import annotations

from datetime import datetime, timezone

from apscheduler.schedulers.background import BackgroundScheduler

from bot.alerts.runner import AlertRunner
from bot.bus import Bus
from bot.notify import Transport

DELIVER_EVERY = 2  # seconds; job progress and button answers (Top DLQ types) wait at most this


def start_alerts(bus: Bus, transport: Transport, deliver_every: float = DELIVER_EVERY) -> BackgroundScheduler:
    runner = AlertRunner(bus, transport)
    scheduler = BackgroundScheduler(daemon=True, timezone=timezone.utc)
    now = datetime.now(timezone.utc)
    scheduler.add_job(runner.check, "interval", seconds=bus.settings.bus_check_interval,
                      next_run_time=now, max_instances=1, coalesce=True, id="alert-check")
    scheduler.add_job(runner.deliver, "interval", seconds=deliver_every,
                      next_run_time=now, max_instances=1, coalesce=True, id="alert-deliver")
    scheduler.start()
    return scheduler
