"""The pure state machine: hold time, hysteresis, escalation, reminders (no Redis)."""
from __future__ import annotations

from bot.alerts.machine import AlertState, step
from bot.alerts.rules import base_rules
from bot.settings import Settings

RULE = base_rules(Settings(_env_file=None))["dlq_size"]  # warn 100, crit 500
HOLD, REPEAT = 300_000, 3_600_000
T0 = 1_764_000_000_000


class Run:
    def __init__(self):
        self.st, self.now, self.events = AlertState(), T0, []

    def at(self, seconds: float, value: float | None):
        self.now = T0 + int(seconds * 1000)
        self.st, events = step(RULE, self.st, value, "", self.now, HOLD, REPEAT)
        self.events += [(seconds, e.kind, e.after) for e in events]
        return [e.kind for e in events]


def test_fires_only_after_the_hold_time():
    run = Run()
    assert run.at(0, 150) == []
    assert run.at(299, 150) == []
    assert run.at(300, 150) == ["fire"]
    assert run.st.level == "warning" and run.st.since == T0 and run.st.episode == T0 + 300_000


def test_a_dip_below_the_threshold_restarts_the_hold():
    run = Run()
    run.at(0, 150)
    run.at(200, 50)
    assert run.at(400, 150) == []
    assert run.at(699, 150) == []
    assert run.at(700, 150) == ["fire"]


def test_escalates_and_deescalates_each_after_its_hold():
    run = Run()
    run.at(0, 150)
    run.at(100, 600)
    assert run.at(300, 600) == ["fire"] and run.st.level == "warning"
    assert run.at(400, 600) == ["escalate"] and run.st.level == "critical"
    assert run.at(500, 400) == []  # 400 <= 500 x 0.9: clear of critical from now
    assert run.at(799, 400) == []
    assert run.at(800, 400) == ["deescalate"] and run.st.level == "warning"
    assert run.st.peak == 600


def test_resolves_only_below_threshold_times_0_9_for_the_hold():
    run = Run()
    run.at(0, 150)
    run.at(300, 150)
    run.at(400, 95)  # below the threshold but above 90: not clear
    assert run.at(1000, 95) == [] and run.st.level == "warning"
    run.at(1100, 90)
    assert run.at(1399, 90) == []
    assert run.at(1400, 90) == ["resolve"]
    assert run.st.level == "healthy" and run.st.resolved_ms == T0 + 1_400_000


def test_critical_straight_to_resolved_when_both_levels_are_clear():
    run = Run()
    run.at(0, 900)
    run.at(300, 900)
    assert run.st.level == "critical"
    run.at(400, 10)
    assert run.at(700, 10) == ["resolve"]


def test_unknown_neither_fires_nor_resolves():
    run = Run()
    run.at(0, 150)
    run.at(100, None)
    assert run.at(300, 150) == []  # the streak restarted at 300
    assert run.at(600, 150) == ["fire"]
    run.at(700, None)
    run.at(800, None)
    assert run.at(2000, None) == [] and run.st.level == "warning"


def test_reminders_every_repeat_until_acknowledged_or_snoozed():
    run = Run()
    run.at(0, 150)
    run.at(300, 150)
    assert run.at(300 + 3599, 150) == []
    assert run.at(300 + 3600, 150) == ["remind"]
    assert run.at(300 + 7199, 150) == []
    assert run.at(300 + 7200, 150) == ["remind"]
    run.st.snoozed_until = run.now + 3_600_000 * 4
    assert run.at(300 + 7200 + 3600 * 3, 150) == []
    assert run.at(300 + 7200 + 3600 * 4, 150) == ["remind"]  # snooze over
    run.st.acked_by = "U1"
    assert run.at(300 + 7200 + 3600 * 9, 150) == []


def test_a_new_episode_forgets_acknowledgement():
    run = Run()
    run.at(0, 150)
    run.at(300, 150)
    run.st.acked_by = "U1"
    run.at(400, 0)
    run.at(700, 0)
    assert run.st.level == "healthy"
    run.at(800, 150)
    assert run.at(1100, 150) == ["fire"]
    assert run.st.acked_by is None and run.st.episode == T0 + 1_100_000
