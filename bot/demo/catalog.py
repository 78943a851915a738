"""What a realistic HYVVE bus carries: tenants, event types with their `data`, and the
handler errors that land events in the DLQ.

Pure functions of a `random.Random`, so the demo seeder and a live publisher (`demo-load`)
produce the same kind of traffic and stay deterministic for a given seed.
"""
from __future__ import annotations

import random
import string
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bot.timeparse import iso_ms

_B36 = string.digits + string.ascii_lowercase

# (tenant id, share of the traffic): one big customer, a long tail
TENANTS: list[tuple[str, int]] = [
    ("ws_acme", 34), ("ws_northwind", 22), ("ws_globex", 16),
    ("ws_initech", 12), ("ws_umbrella", 9), ("ws_hooli", 7),
]

FIRST = ["ana", "ben", "chloe", "dev", "emma", "farid", "grace", "hiro", "ines", "jon", "kofi", "lena"]
LAST = ["silva", "park", "novak", "okafor", "meyer", "tanaka", "haddad", "rossi", "khan", "berg"]
DOMAINS = ["acme.io", "northwind.com", "globex.net", "initech.co", "umbrella.org", "hooli.xyz", "gmail.com"]


def cuid(rng: random.Random, prefix: str = "clx") -> str:
    """An id shaped like the platform's cuids (`clx` + 22 base-36 characters)."""
    return prefix + "".join(rng.choices(_B36, k=22))


def short_id(rng: random.Random, prefix: str, k: int = 6) -> str:
    return f"{prefix}_{''.join(rng.choices(_B36, k=k))}"


def email(rng: random.Random) -> str:
    return f"{rng.choice(FIRST)}.{rng.choice(LAST)}{rng.randint(1, 99)}@{rng.choice(DOMAINS)}"


def _approval(rng: random.Random) -> dict:
    return {"approvalId": f"ap_{rng.randint(1, 999)}",
            "itemType": rng.choice(["expense", "contract", "content", "agent_action"]),
            "requestedBy": short_id(rng, "usr"),
            "amount": round(rng.uniform(20, 9000), 2)}


DataFactory = Callable[[random.Random], dict]

# event type -> (source, share of the traffic, data factory)
EVENT_TYPES: dict[str, tuple[str, int, DataFactory]] = {
    "agent.run.completed": ("agentos", 24, lambda rng: {
        "runId": short_id(rng, "run", 8), "agentId": rng.choice(["agt_triage", "agt_writer", "agt_crm_enrich"]),
        "status": rng.choices(["succeeded", "failed"], [19, 1])[0],
        "durationMs": int(rng.lognormvariate(8.5, 0.7)), "tokens": rng.randint(300, 24000)}),
    "crm.contact.created": ("crm-sync", 18, lambda rng: {
        "contactId": short_id(rng, "ct", 8), "email": email(rng),
        "source": rng.choice(["hubspot", "salesforce", "csv_import", "form"])}),
    "auth.session.expired": ("platform", 13, lambda rng: {
        "sessionId": short_id(rng, "ses", 10), "reason": rng.choice(["idle_timeout", "max_age", "revoked"])}),
    "approval.item.created": ("platform", 10, _approval),
    "approval.item.approved": ("platform", 7, lambda rng: {
        "approvalId": f"ap_{rng.randint(1, 999)}", "approvedBy": short_id(rng, "usr")}),
    "approval.item.rejected": ("platform", 2, lambda rng: {
        "approvalId": f"ap_{rng.randint(1, 999)}", "rejectedBy": short_id(rng, "usr"),
        "reason": rng.choice(["over budget", "missing receipt", "duplicate request"])}),
    "content.article.published": ("platform", 6, lambda rng: {
        "articleId": short_id(rng, "art", 8), "authorId": short_id(rng, "usr"),
        "title": rng.choice(["Q3 roadmap", "Onboarding guide", "Release notes 4.2", "Pricing FAQ"])}),
    "workspace.member.invited": ("platform", 7, lambda rng: {
        "email": email(rng), "role": rng.choice(["member", "admin", "viewer"]), "invitedBy": short_id(rng, "usr")}),
    "workspace.member.added": ("platform", 6, lambda rng: {
        "memberId": short_id(rng, "usr"), "role": rng.choice(["member", "admin", "viewer"])}),
    "auth.user.created": ("platform", 5, lambda rng: {
        "email": email(rng), "provider": rng.choice(["google", "password", "saml"])}),
    "workspace.workspace.created": ("platform", 2, lambda rng: {
        "name": f"{rng.choice(LAST).title()} {rng.choice(['Labs', 'Studio', 'Ops', 'Team'])}",
        "plan": rng.choice(["free", "pro", "enterprise"])}),
}


def pick_type(rng: random.Random) -> str:
    names = list(EVENT_TYPES)
    return rng.choices(names, [EVENT_TYPES[n][1] for n in names])[0]


def pick_tenant(rng: random.Random) -> str:
    return rng.choices([t for t, _ in TENANTS], [w for _, w in TENANTS])[0]


def make_event(rng: random.Random, ms: int, etype: str | None = None, tenant: str | None = None,
               correlation_id: str | None = None) -> dict[str, Any]:
    """One BaseEvent envelope published at `ms`."""
    etype = etype or pick_type(rng)
    source, _, factory = EVENT_TYPES[etype]
    tenant = tenant or pick_tenant(rng)
    data = factory(rng)
    if etype.startswith("workspace."):
        data = {"workspaceId": tenant, **data}
    return {"id": cuid(rng), "type": etype, "source": source, "timestamp": iso_ms(ms),
            "correlationId": correlation_id or cuid(rng), "tenantId": tenant,
            "userId": short_id(rng, "usr"), "version": "1.0", "data": data}


@dataclass(frozen=True)
class ErrorPattern:
    """A handler failure that recurs: which types it hits, how often, its message and stack."""
    name: str
    types: tuple[str, ...]
    weight: int
    message: Callable[[random.Random, dict], str]
    frame: str  # the handler frame at the top of the stack
    drops: str | None = None  # a `data` key the failing event lacks (what the error is about)

    def render(self, rng: random.Random, event: dict) -> tuple[str, str]:
        msg = self.message(rng, event)
        kind = msg.split(":", 1)[0] if msg.split(":", 1)[0].endswith("Error") else "Error"
        head = msg if msg.startswith(kind) else f"{kind}: {msg}"
        stack = (f"{head}\n    at {self.frame}\n"
                 f"    at async EventConsumer.process (/app/dist/events/consumer.js:{rng.randint(80, 96)}:7)\n"
                 "    at async EventConsumer.poll (/app/dist/events/consumer.js:51:9)")
        return msg, stack


ERRORS: list[ErrorPattern] = [
    ErrorPattern("rate-limit", ("crm.contact.created", "workspace.member.added"), 34,
                 lambda rng, e: f"429 Too Many Requests from crm-sync (retry after {rng.choice([15, 30, 60])}s)",
                 "CrmSyncHandler.push (/app/dist/handlers/crm-sync.js:77:15)"),
    ErrorPattern("timeout", ("approval.item.created", "agent.run.completed"), 26,
                 lambda rng, e: f"timeout after {rng.randint(5000, 5090)}ms for "
                                f"{e['data'].get('approvalId') or e['data'].get('runId')}",
                 "ApprovalHandler.handle (/app/dist/handlers/approval.js:142:11)"),
    ErrorPattern("unique-email", ("crm.contact.created", "auth.user.created"), 15,
                 lambda rng, e: 'duplicate key value violates unique constraint "contacts_email_key"',
                 "ContactRepository.insert (/app/dist/db/contacts.js:58:13)"),
    ErrorPattern("undefined-workspace", ("workspace.member.invited",), 12,
                 lambda rng, e: "Cannot read properties of undefined (reading 'workspaceId')",
                 "InviteHandler.handle (/app/dist/handlers/invite.js:23:41)", drops="workspaceId"),
    ErrorPattern("validation", ("approval.item.approved", "approval.item.rejected"), 8,
                 lambda rng, e: 'ValidationError: field "approvalId" missing',
                 "validateEnvelope (/app/dist/events/validate.js:31:11)", drops="approvalId"),
    ErrorPattern("db-refused", ("agent.run.completed", "content.article.published"), 5,
                 lambda rng, e: f"connect ECONNREFUSED 10.0.{rng.randint(1, 9)}.{rng.randint(2, 250)}:5432",
                 "Pool.connect (/app/node_modules/pg-pool/index.js:45:11)"),
]


def pick_error(rng: random.Random) -> ErrorPattern:
    return rng.choices(ERRORS, [e.weight for e in ERRORS])[0]


def handler_duration_ms(rng: random.Random, etype: str) -> int:
    """How long a handler took: log-normal around tens of ms, agents slower, a thin slow tail."""
    median = 180 if etype == "agent.run.completed" else 35
    roll = rng.random()
    if roll < 0.004:
        return rng.randint(2500, 9000)
    if roll < 0.03:
        return rng.randint(300, 2500)
    return max(1, int(rng.lognormvariate(0, 0.75) * median))
