"""`/bus pause [group]` and `/bus resume [group]`: an operator's confirm, then the pause
key and an announcement on the control channel."""
from __future__ import annotations

from bot.actions import audit
from bot.actions import pause as service
from bot.actions.requests import GuardedRequest
from bot.bus import Bus
from bot.phrase import code, fact, join, person, phrase
from bot.render import num
from commands.guard import EXECUTORS, notice, preview_reply
from commands.invocation import Invocation
from commands.registry import REGISTRY
from commands.reply import CommandError, Reply


def _state(inv: Invocation) -> service.GroupState:
    group = inv.positional(0) or inv.bus.settings.bus_group
    state = service.group_state(inv.bus, group)
    if not state.exists and not state.paused:
        others = join([code(g) for g in state.others]) or phrase("none")
        raise CommandError(phrase("No consumer group ", code(group), " reads ", code(inv.bus.keys.events),
                                  " (groups: ", others, ")."), phrase(code("/bus groups"), " lists them."))
    return state


def _facts(state: service.GroupState) -> list[dict]:
    return [fact("Group", code(state.name)), fact("Consumers", num(state.consumers)),
            fact("Pending", num(state.pending))]


@REGISTRY.command("pause [group] [reason=TEXT]",
                  "Stop a consumer group reading new events (operator confirm).",
                  options=("reason",), max_positional=1, role="operator", group="Actions")
def pause_command(inv: Invocation) -> Reply:
    state = _state(inv)
    if state.paused:
        return notice(phrase(code(state.name), " is already paused (by ", person(state.paused.get("by")),
                             f" at {state.paused.get('at', '?')})."),
                      phrase(code(f"/bus resume {state.name}"), " resumes it."), "paused")
    reason = inv.option("reason") or ""
    req = GuardedRequest(token="", kind="pause", command=f"pause {state.name}",
                         params={"group": state.name, "reason": reason}, requester=inv.user_id)
    summary = phrase(f"The {num(state.consumers)} consumers of ", code(state.name), " start nothing new before "
                     "their next read; events in flight finish, nothing is lost, and new events wait in "
                     "the stream until ", code("/bus resume"), ".")
    return preview_reply(inv.bus, req, title=f"Pause {state.name}", verb="Pause", summary=summary,
                         facts=_facts(state))


@REGISTRY.command("resume [group]", "Let a paused consumer group read again (operator confirm).",
                  max_positional=1, role="operator", group="Actions")
def resume_command(inv: Invocation) -> Reply:
    state = _state(inv)
    if not state.paused:
        return notice(phrase(code(state.name), " is not paused; there is nothing to resume."))
    req = GuardedRequest(token="", kind="resume", command=f"resume {state.name}",
                         params={"group": state.name}, requester=inv.user_id)
    summary = phrase(code(state.name), " was paused by ", person(state.paused.get("by")),
                     f" at {state.paused.get('at', '?')}; its consumers read again from where they stopped.")
    return preview_reply(inv.bus, req, title=f"Resume {state.name}", verb="Resume", summary=summary,
                         facts=_facts(state))


def _do_pause(bus: Bus, req: GuardedRequest) -> Reply:
    group, by = req.params["group"], req.approved_by or req.confirmed_by
    done = service.pause(bus, group, by, req.params.get("reason", ""))
    audit.record(bus, by, "pause.done" if done else "pause.noop", req.command,
                 "paused" if done else "was already paused")
    if not done:
        return notice(phrase(code(group), " was already paused; nothing changed."))
    return notice(phrase(person(by), " paused ", code(group), ": its consumers stop before their next read."),
                  phrase(code("/bus health"), " shows it paused; ", code(f"/bus resume {group}"), " resumes it."),
                  "paused")


def _do_resume(bus: Bus, req: GuardedRequest) -> Reply:
    group, by = req.params["group"], req.approved_by or req.confirmed_by
    done = service.resume(bus, group, by)
    audit.record(bus, by, "resume.done" if done else "resume.noop", req.command,
                 "resumed" if done else "was not paused")
    if not done:
        return notice(phrase(code(group), " was not paused any more; nothing changed."))
    return notice(phrase(person(by), " resumed ", code(group), ": its consumers read again."), None, "resumed")


EXECUTORS["pause"] = _do_pause
EXECUTORS["resume"] = _do_resume
