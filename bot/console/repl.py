"""The console's read-eval-print loop: `/bus` commands typed in a terminal.

`bus> dlq top` runs a command (the `/bus` prefix is optional); a bare number runs that
button of the last answer, as a click would in Slack; `user NAME` changes who you act as
(a second operator approves what the first confirmed); `quit`, `exit` or Ctrl-D leave
(while a job runs in this console, `quit` warns first and a second `quit` leaves).
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TextIO

from bot.console.render_text import Choice, Screen, layout, render_reply_text, terminal_width
from bot.jobs import store
from bot.plural import plural
from bot.runtime import Runtime
from commands import router
from commands.reply import Reply

PROMPT = "bus> "
LEAVE = frozenset({"quit", "exit", "q"})
RECENT_JOBS = 20


def running_jobs_warning(job_ids: tuple[str, ...], leaving: bool = False) -> str:
    one = len(job_ids) == 1
    it = "it" if one else "they"
    what = f"{plural(len(job_ids), 'job')} {'is' if one else 'are'} still running ({', '.join(job_ids)})"
    stop = "stops" if one else "stop"
    after = (f"When the console exits {it} {stop} between batches; busbot resumes {'it' if one else 'them'} "
             "from there the next time it runs on this Redis (on the embedded demo Redis nothing is kept).")
    if leaving:
        return f"{what}. {after}"
    return f"{what}. {after} Type quit again to leave anyway, or job <id> to watch progress."


def show(reply: Reply, out: TextIO, color: bool = False) -> Screen:
    screen = render_reply_text(reply, color)
    print(screen.text, file=out, flush=True)
    return screen


def _strip_prefix(line: str) -> str:
    line = line.strip()
    return line[4:].strip() if line.lower().startswith("/bus") else line


class Console:
    """One terminal session: the runtime, where to print, and the last answer's choices."""

    def __init__(self, rt: Runtime, out: TextIO = sys.stdout, color: bool = False,
                 read: Callable[[str], str] = input, echo: bool = False, user: str = "console"):
        self.rt, self.out, self.color, self.read, self.user = rt, out, color, read, user
        self.echo = echo  # input is piped: show each line after the prompt, as a transcript
        self.choices: list[Choice] = []
        self.warned_running: tuple[str, ...] = ()  # jobs the last `quit` warned about

    def handle(self, line: str) -> bool:
        """Run one line; False when the user asked to leave."""
        text = _strip_prefix(line)
        if text.lower() in LEAVE:
            return not self._may_leave()
        if not text:
            return True
        if text.lower().startswith("user ") and len(text.split()) == 2:
            self.user = text.split()[1]
            print(f"Now acting as {self.user}.", file=self.out)
            return True
        reply = self._choose(int(text)) if text.isdigit() else router.run(text, self.rt, self.user)
        if reply is not None:
            self.choices = show(reply, self.out, self.color).choices
        return True

    def _may_leave(self) -> bool:
        """Leave now, unless a job is running that was not warned about yet: then say
        what happens to it, and the next `quit` leaves."""
        running = tuple(sorted(j.id for j in store.recent(self.rt.bus, RECENT_JOBS) if j.active))
        if not running or running == self.warned_running:
            return True
        self.warned_running = running
        print(layout(running_jobs_warning(running), terminal_width(), False), file=self.out)
        return False

    def _choose(self, n: int) -> Reply | None:
        if not 1 <= n <= len(self.choices):
            have = f"1 to {len(self.choices)}" if self.choices else "none"
            print(f"There is no choice [{n}] in the last answer (choices: {have}).", file=self.out)
            return None
        choice = self.choices[n - 1]
        if choice.confirm and self.read(f"{choice.confirm} [y/N] ").strip().lower() not in ("y", "yes"):
            print("Cancelled; nothing was done.", file=self.out)
            return None
        return router.run_action(choice.action_id, choice.value, self.rt, self.user)

    def loop(self) -> int:
        while True:
            try:
                line = self.read(PROMPT)
                if self.echo:
                    print(line, file=self.out)
                if not self.handle(line):
                    return 0
            except EOFError:  # Ctrl-D (or the end of piped input): leave, saying what still runs
                print(file=self.out)
                running = tuple(j.id for j in store.recent(self.rt.bus, RECENT_JOBS) if j.active)
                if running:
                    print(layout(running_jobs_warning(running, leaving=True), terminal_width(), False),
                          file=self.out)
                return 0
            except KeyboardInterrupt:  # Ctrl-C drops the line or the answer, as a shell does
                print(file=self.out)
