"""Alert fixtures: a bus with an injected clock and an alert channel set."""
from __future__ import annotations

import pytest

from tests.conftest import FakeClock


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def alerting(bus, clock):
    bus.clock = clock
    bus.settings = bus.settings.model_copy(update={"bus_alert_channel": "C0ALERTS"})
    return bus
