"""A wheel built from the repo carries the templates and Lua scripts and runs from elsewhere."""
from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_wheel_contains_templates_and_lua_and_runs(tmp_path):
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    "-w", str(tmp_path), str(ROOT)], check=True, timeout=300)
    [wheel] = tmp_path.glob("busbot-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for folder, pattern in (("templates", "*.json.j2"), ("templates/text", "*.txt.j2"), ("bot/lua", "*.lua")):
        shipped = {f"{folder}/{p.name}" for p in (ROOT / folder).glob(pattern)}
        assert shipped and shipped <= names, shipped - names
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    env = {**os.environ, "PYTHONPATH": str(site)}
    env.pop("REDIS_URL", None)
    out = subprocess.run([sys.executable, "-m", "bot", "console", "-c", "dlq top"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "DLQ top" in out.stdout and "By error" in out.stdout
    assert str(site) in subprocess.run([sys.executable, "-c", "import templates; print(templates.__file__)"],
                                       cwd=tmp_path, env=env, capture_output=True, text=True).stdout
