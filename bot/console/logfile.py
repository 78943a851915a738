"""Where the console writes its log: the user's own log directory, never a path shared by
every user of the machine. Linux and other Unixes: `$XDG_STATE_HOME/busbot/console.log`
(default `~/.local/state/busbot/console.log`); macOS: `~/Library/Logs/busbot/console.log`;
Windows: `%LOCALAPPDATA%\\busbot\\Logs\\console.log`."""
from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

NAME = "console.log"


def log_dir(env: dict[str, str] | None = None, platform: str | None = None,
            home: Path | None = None) -> Path:
    env = dict(os.environ) if env is None else env
    platform = platform or sys.platform
    home = home or Path.home()
    if platform.startswith("win"):
        base = env.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / "busbot" / "Logs"
    if platform == "darwin":
        return home / "Library" / "Logs" / "busbot"
    state = env.get("XDG_STATE_HOME")
    return (Path(state) if state and os.path.isabs(state) else home / ".local" / "state") / "busbot"


def log_handler() -> tuple[logging.Handler, str]:
    """A handler on the user's log file, or on stderr when that file cannot be opened;
    and where the log goes, to tell the user."""
    path = log_dir() / NAME
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        return logging.FileHandler(path), str(path)
    except OSError:
        return logging.StreamHandler(sys.stderr), "stderr"
