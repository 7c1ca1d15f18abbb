"""Where the store lives by default.

Order of precedence: an explicit path, then the ``LIPSYM_DB`` environment
variable, then the platform's per-user data directory:

* Linux and other Unix: ``$XDG_DATA_HOME/lipsym/lipsym.sqlite3``, with
  ``XDG_DATA_HOME`` defaulting to ``~/.local/share`` (a relative
  ``XDG_DATA_HOME`` is ignored, as the XDG specification requires);
* macOS: ``~/Library/Application Support/lipsym/lipsym.sqlite3``;
* Windows: ``%APPDATA%\\lipsym\\lipsym.sqlite3``.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from pathlib import Path

APP_NAME = "lipsym"
DB_FILENAME = "lipsym.sqlite3"
#: Environment variable naming the database file.
ENV_VAR = "LIPSYM_DB"


def default_data_dir(
    *,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    home: Path | None = None,
) -> Path:
    """Return the per-user data directory of lipsym (not created).

    Parameters
    ----------
    env : mapping, optional
        Environment to read (default :data:`os.environ`).
    platform : str, optional
        ``sys.platform`` value to assume (default: the running one).
    home : Path, optional
        Home directory to assume (default :meth:`Path.home`).
    """
    env = os.environ if env is None else env
    platform = sys.platform if platform is None else platform
    home = Path.home() if home is None else home
    if platform == "darwin":
        return home / "Library" / "Application Support" / APP_NAME
    if platform.startswith("win"):
        appdata = env.get("APPDATA")
        base = Path(appdata) if appdata else home / "AppData" / "Roaming"
        return base / APP_NAME
    xdg = env.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else home / ".local" / "share"
    return base / APP_NAME


def resolve_db_path(
    path: str | os.PathLike[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    platform: str | None = None,
    home: Path | None = None,
) -> Path:
    """Return the database file to use: ``path``, else ``$LIPSYM_DB``, else the default.

    The result is absolute (``~`` expanded) but not resolved through
    symlinks.
    """
    env = os.environ if env is None else env
    if path is None or str(path) == "":
        from_env = env.get(ENV_VAR, "")
        if from_env:
            path = from_env
        else:
            return default_data_dir(env=env, platform=platform, home=home) / DB_FILENAME
    return Path(os.path.abspath(os.path.expanduser(os.fspath(path))))
