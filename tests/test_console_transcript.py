"""What a newcomer reads in `busbot console`: each audit entry on its own line, a job's
progress line written in one piece, alert bounds that read as sentences, a job's start."""
from __future__ import annotations

import io

from bot.alerts.rules import base_rules
from bot.console.cli import write_line
from bot.console.render_text import render_text
from bot.settings import Settings


def _entry(what: str, job: str | None) -> dict:
    return {"at": "2026-11-30 11:55:32", "who": "console", "what": what, "args": "type=a", "result": "done",
            "job": job}


def test_audit_entries_with_a_job_each_stand_on_their_own_line():
    entries = [_entry("reprocess.completed", "j1"), _entry("reprocess.start", "j1"), _entry("reprocess.request", None)]
    text = render_text("audit", {"entries": entries, "stream": "hyvve:bus:audit"}, width=200).text
    lines = [line for line in text.splitlines() if line.startswith("2026-11-30")]
    assert len(lines) == 3, text
    assert lines[0].endswith("job `j1`") and lines[1].endswith("job `j1`")


class _Writes(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.calls: list[str] = []

    def write(self, s: str) -> int:
        self.calls.append(s)
        return super().write(s)


def test_a_progress_line_is_one_write_with_its_newline():
    """The runner's thread prints it while the prompt's thread prints an answer: a line
    written apart from its newline ends up glued to the answer's title."""
    out = _Writes()
    write_line("[busbot update] Job j1 (reprocess) COMPLETED", out)
    assert out.calls == ["[busbot update] Job j1 (reprocess) COMPLETED\n"]


def test_condition_rules_say_when_they_fire_not_a_threshold():
    rules = base_rules(Settings())
    assert rules["stream"].bounds() == "critical when missing"
    assert rules["groups"].bounds() == "warning when none"
    assert rules["dlq_size"].bounds() == "warning > 100 entries · critical > 500 entries"


def test_a_job_not_started_yet_says_so_in_plain_words():
    job = {"symbol": "running", "id": "j1", "status": "PENDING", "what": "Reprocess 1 entry", "moved": 0,
           "to_move": 1, "pct": 0, "skipped": 0, "rate": "–", "limit": "unthrottled", "by": "console",
           "filter": "type=a", "bounds": "`1-0`", "eta": None, "took": None, "approved_by": None,
           "note": None, "error": None, "followup": None, "started": None, "buttons": []}
    text = render_text("job", {"job": job}, width=120).text
    assert "Not started yet." in text and "Started not yet" not in text


def test_the_schedulers_per_run_lines_stay_out_of_the_log_unless_verbose(monkeypatch):
    import logging

    from bot.cli import main
    monkeypatch.delenv("REDIS_URL", raising=False)
    scheduler = logging.getLogger("apscheduler")
    monkeypatch.setattr(scheduler, "level", logging.NOTSET)
    assert main(["check"]) == 3  # no Redis to check
    assert scheduler.level == logging.WARNING


def test_a_preview_needing_approval_says_where_the_second_operator_finds_it(bus):
    from bot.console.render_text import render_reply_text
    from bot.demo import seed
    from commands import router
    from tests.runtime_helpers import manual_runtime
    seed(bus)
    bus.settings = bus.settings.model_copy(update={"bus_operators": "console"})
    text = render_reply_text(router.run("reprocess all", manual_runtime(bus), "console"), width=200).text
    assert "a second operator must approve it (`/bus approvals` lists what waits)" in text
    assert "in the channel" not in text  # the console has none


def test_a_refusal_names_who_to_add_in_the_console_too(bus):
    from bot.console.render_text import render_reply_text
    from commands import router
    from tests.runtime_helpers import manual_runtime
    bus.settings = bus.settings.model_copy(update={"bus_operators": "U0OPS"})
    text = render_reply_text(router.run("reprocess all", manual_runtime(bus), "console"), width=200).text
    assert "ask an admin to add you (`console`) to `BUS_OPERATORS`." in text
    assert "Slack id" not in text  # the console's user is a name


def test_a_job_on_chosen_ids_says_so_not_everything_up_to_a_bound():
    from bot.actions.view import job_view
    from bot.jobs.model import Job
    one = Job(id="j1", kind="reprocess", source="d", target="e", params={"ids": ["1-0"]})
    assert job_view(one, 0)["filter"] == "1 entry chosen by id"
    both = Job(id="j2", kind="purge", source="d", target="d:archive", params={"ids": ["1-0", "2-0"], "type": "a"})
    assert job_view(both, 0)["filter"] == "2 entries chosen by id type=a"
    assert job_view(Job(id="j3", kind="reprocess", source="d", target="e"), 0)["filter"] == \
        "everything up to the fixed upper id"
