"""How the code hangs together: no import cycles between modules, and `/bus help` in the
same order whichever command module is imported first."""
from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

from commands.registry import HELP_ORDER, REGISTRY

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "commands")


def _module_graph() -> dict[str, set[str]]:
    """Module -> the project modules it imports when it loads (TYPE_CHECKING ones aside)."""
    paths = {}
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            name = ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            paths[name] = path
    graph = {}
    for name, path in paths.items():
        found = set()
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.dump(node.test):
                continue
            for n in (node.body if isinstance(node, ast.Try) else [node]):
                if isinstance(n, ast.Import):
                    found |= {a.name for a in n.names}
                elif isinstance(n, ast.ImportFrom) and n.module and n.level == 0:
                    found |= {n.module} | {f"{n.module}.{a.name}" for a in n.names}
        graph[name] = {m for m in found if m in paths and m != name}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    assert _cycles(_module_graph()) == []


def test_the_cycle_finder_finds_one():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_command_modules_never_call_back_into_the_router():
    graph = _module_graph()
    callers = sorted(m for m in graph if m.startswith("commands.") and "commands.router" in graph[m])
    assert callers == []


HELP_IN_A_FRESH_PROCESS = """
import importlib, json, sys
for name in sys.argv[1:]:
    importlib.import_module(name)
from bot.settings import Settings
from bot.bus import Bus
from bot.connection import embedded
from bot.runtime import build_runtime
from commands import router
reply = router.run("help", build_runtime(Bus(embedded(), Settings(_env_file=None)), start_jobs=False))
print(json.dumps(reply.context["groups"]))
"""


def _help_after_importing(*modules: str) -> dict:
    out = subprocess.run([sys.executable, "-c", HELP_IN_A_FRESH_PROCESS, *modules], cwd=ROOT,
                         capture_output=True, text=True, timeout=120, check=True).stdout
    return json.loads(out)


def test_help_is_the_same_whatever_module_is_imported_first():
    usual = _help_after_importing()
    assert _help_after_importing("commands.trim", "commands.audit", "commands.alerts", "commands.jobs") == usual
    assert _help_after_importing("commands.reprocess", "commands.dlq", "commands.help") == usual
    assert list(usual) == ["Help", "Read", "Actions"]


def test_every_command_has_its_place_in_the_help_order():
    from commands import catalog  # noqa: F401  (registers every command)

    names = [c.name for c in REGISTRY.all()]
    assert sorted(names) == sorted(HELP_ORDER) and names == list(HELP_ORDER)


def test_the_architecture_page_lists_every_redis_key():
    """Every key `bot.keys.Keys` builds has its row (type, owner, retention) in
    docs/architecture.md, placeholders aside."""
    import inspect
    import re

    from bot.keys import Keys
    from bot.settings import Settings

    def shape(key: str) -> str:
        key = key.replace("{hyvve:events}", "{<events>}").replace("{hyvve:dlq}", "{<dlq>}")
        key = key.replace("hyvve:bus:", "<prefix>:bus:").replace("hyvve:events:", "<events>:")
        return re.sub(r"<[a-z_]+>", "<>", key.replace("hyvve:dlq:", "<dlq>:"))

    doc = (ROOT / "docs" / "architecture.md").read_text()
    listed = {shape(k) for k in re.findall(r"^\| `([^`]+)`", doc, re.M)}
    keys = Keys.from_settings(Settings(_env_file=None))
    built = set()
    for name, member in inspect.getmembers(Keys):
        if name.startswith("_") or name == "from_settings" or name in Keys.__dataclass_fields__:
            continue
        if isinstance(member, property):
            built.add(shape(getattr(keys, name)))
        else:
            params = list(inspect.signature(member).parameters)[1:]
            built.add(shape(member(keys, *[f"<{p}>" for p in params])))
    assert built - listed == set()
