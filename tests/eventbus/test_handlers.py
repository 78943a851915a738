"""Handler registry: patterns, priority, duplicates; and the retry policy's arithmetic."""
from __future__ import annotations

import pytest

from bot.eventbus.handlers import DuplicateHandler, Handlers
from bot.eventbus.retry import RetryPolicy


def named(name):
    def f(msg):
        return name
    f.__name__ = name
    return f


def test_patterns_match_and_run_by_priority_then_registration():
    h = Handlers()
    exact, glob, star, other = named("exact"), named("glob"), named("star"), named("other")
    h.register("*", star, priority=-1)
    h.register("approval.*", glob)
    h.register("approval.item.created", exact, priority=10)
    h.register("crm.*", other)
    assert h.for_type("approval.item.created") == (exact, glob, star)
    assert h.for_type("approval.item.approved") == (glob, star)
    assert h.for_type("auth.user.created") == (star,)
    late = named("late")
    h.register("approval.*", late)
    assert h.for_type("approval.item.approved") == (glob, late, star)


def test_the_same_function_twice_for_a_pattern_is_refused():
    h, f = Handlers(), named("f")
    h.register("crm.*", f)
    with pytest.raises(DuplicateHandler, match="f is already registered for 'crm.*'"):
        h.register("crm.*", f)
    h.register("auth.*", f)  # another pattern is fine
    assert len(h) == 2


def test_retry_policy_follows_the_platform():
    p = RetryPolicy()
    assert [p.delay_after(n) for n in (1, 2, 3, 4)] == [60, 300, 1800, 1800]
    assert [p.gives_up(n) for n in (1, 2, 3)] == [False, False, True]
