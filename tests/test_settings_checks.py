"""Start-up checks of the settings: thresholds in the right order, and BUS_* typos named."""
from __future__ import annotations

import pytest

from bot.settings import SettingsError, load_settings, unknown_bus_variables

PAIRS = [("BUS_DLQ_WARN", "BUS_DLQ_CRIT", "600", "500"),
         ("BUS_LAG_WARN", "BUS_LAG_CRIT", "6000", "5000"),
         ("BUS_FAILED_PER_HOUR_WARN", "BUS_FAILED_PER_HOUR_CRIT", "60", "50"),
         ("BUS_P99_WARN_SECONDS", "BUS_P99_CRIT_SECONDS", "31", "30"),
         ("BUS_IDLE_WARN_SECONDS", "BUS_IDLE_CRIT_SECONDS", "3601", "3600")]


@pytest.mark.parametrize("warn, crit, warn_value, crit_value", PAIRS)
def test_a_warning_above_its_critical_threshold_is_refused_naming_both(monkeypatch, warn, crit,
                                                                       warn_value, crit_value):
    monkeypatch.setenv(warn, warn_value)
    monkeypatch.setenv(crit, crit_value)
    with pytest.raises(SettingsError) as err:
        load_settings(_env_file=None)
    assert str(err.value).startswith(f"{crit}: ") and warn in str(err.value)


@pytest.mark.parametrize("warn, crit, warn_value, crit_value", PAIRS)
def test_a_warning_equal_to_its_critical_threshold_is_accepted(monkeypatch, warn, crit,
                                                               warn_value, crit_value):
    monkeypatch.setenv(warn, crit_value)
    monkeypatch.setenv(crit, crit_value)
    load_settings(_env_file=None)


def test_a_bad_warning_value_is_reported_as_itself():
    with pytest.raises(SettingsError, match=r"^BUS_DLQ_WARN: "):
        load_settings(_env_file=None, bus_dlq_warn=-1)


def test_unknown_bus_variables_are_named_with_the_nearest_setting():
    lines = unknown_bus_variables({"BUS_DLQ_WARNING": "5", "BUS_GROUP": "g", "bus_lag_crt": "9",
                                   "BUS_ZZZ_QQQ": "1", "REDIS_URL": "redis://x", "PORT": "1"})
    assert lines == [
        "BUS_DLQ_WARNING is not a busbot setting and is ignored (did you mean BUS_DLQ_WARN?)",
        "BUS_LAG_CRT is not a busbot setting and is ignored (did you mean BUS_LAG_CRIT?)",
        "BUS_ZZZ_QQQ is not a busbot setting and is ignored (no busbot setting is named like it)",
    ]


def test_every_setting_is_a_known_name():
    from bot.settings import Settings

    env = {name.upper(): "x" for name in Settings.model_fields if name.startswith("bus_")}
    assert unknown_bus_variables(env) == []
