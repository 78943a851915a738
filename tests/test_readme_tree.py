"""The README's "How it is built" tree names what is in the repository, and only that."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _tree() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## How it is built", 1)[1].split("\n## ", 1)[0]
    return section.split("```\n", 1)[1].split("```", 1)[0]


def _named() -> set[str]:
    """Paths the tree's left column names (`a, b   what` names two)."""
    names: set[str] = set()
    for line in _tree().splitlines():
        if not line.strip() or line.startswith(" "):
            continue
        column = re.split(r"\s{2,}", line, maxsplit=1)[0]
        names.update(p.strip().rstrip("/") for p in column.split(","))
    return names


def _tracked() -> list[str]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:  # an installed copy without its git history: nothing to compare
        return []
    return out.stdout.split()


def test_every_path_the_tree_names_exists():
    missing = sorted(n for n in _named() if not (ROOT / n).exists())
    assert not missing, f"README's tree names what is not there: {missing}"


def test_the_tree_names_every_top_level_part_and_module_of_bot():
    tracked = [f for f in _tracked() if not f.startswith(".") or f.startswith(".ci/")]
    tops = {f.split("/")[0] for f in tracked} - {"README.md", "bot"}
    bot_parts = {"/".join(f.split("/")[:2]) for f in tracked if f.startswith("bot/")}
    bot_parts = {p for p in bot_parts if not p.split("/")[1].startswith("__")}
    named = _named()
    unnamed = sorted(t for t in tops if not any(n == t or n.startswith(t + "/") for n in named))
    unnamed += sorted(p for p in bot_parts if p not in named)
    assert not unnamed, f"README's tree leaves out: {unnamed}"
