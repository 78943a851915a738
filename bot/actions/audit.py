"""The audit stream: one entry per request, confirm, approval, rejection,
refusal, cancel and completion: who, what, arguments, result, job id."""
from __future__ import annotations

from pydantic import BaseModel

from bot.bus import Bus
from bot.redis_types import entries, text

MAXLEN = 100_000  # approximate: the oldest audit entries go first


class AuditEntry(BaseModel):
    id: str
    who: str
    what: str
    args: str = ""
    result: str = ""
    job: str = ""


def record(bus: Bus, who: str, what: str, args: str = "", result: str = "", job: str = "") -> str:
    """Arguments and results are masked (bot/mask.py): a typed `error=` fragment or a
    reason holding an e-mail never reaches the audit stream raw."""
    mask = bus.masker.text
    return text(bus.r.xadd(bus.keys.audit, {"who": who, "what": what, "args": mask(args), "result": mask(result),
                                            "job": job}, maxlen=MAXLEN, approximate=True))


def latest(bus: Bus, n: int) -> list[AuditEntry]:
    rows = entries(bus.r.xrevrange(bus.keys.audit, "+", "-", count=n))
    return [AuditEntry(id=i, **{k: f.get(k, "") for k in ("who", "what", "args", "result", "job")})
            for i, f in rows]
