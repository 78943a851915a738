"""The collector pause around big raw reads: held while any reader is inside, restored as
it was found."""
from __future__ import annotations

import gc
import threading

from bot import gcpause


def test_the_collector_is_paused_inside_and_restored_after():
    assert gc.isenabled()
    with gcpause.paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_overlapping_readers_keep_it_paused_until_the_last_leaves():
    inside, leave = threading.Event(), threading.Event()

    def other() -> None:
        with gcpause.paused():
            inside.set()
            leave.wait(5)

    t = threading.Thread(target=other)
    t.start()
    assert inside.wait(5)
    with gcpause.paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other reader is still inside
    leave.set()
    t.join(5)
    assert gc.isenabled()


def test_a_collector_switched_off_by_the_host_stays_off():
    gc.disable()
    try:
        with gcpause.paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_an_error_inside_still_restores_it():
    try:
        with gcpause.paused():
            raise ValueError("boom")
    except ValueError:
        pass
    assert gc.isenabled()
