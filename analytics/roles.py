"""Who may do what: roles from a small TOML file of e-mail addresses and domains.

Example (`.streamlit/roles.toml`, or the file named by $TWOWAY_ROLES)::

    analysts = ["ana@example.com", "@people-analytics.example.com"]
    viewers  = ["@example.com"]

An entry starting with "@" is a whole domain. Analysts see everything viewers see and may also
upload, map and undo imports. Matching ignores case; the analyst list wins when both match.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

from analytics.errors import TwowayError

ROOT = Path(__file__).resolve().parent.parent


def roles_path() -> Path:
    return Path(os.environ.get("TWOWAY_ROLES") or ROOT / ".streamlit" / "roles.toml")


def load_roles(path: Path | None = None) -> dict[str, list[str]]:
    """{'analysts': [...], 'viewers': [...]}; an absent file means nobody has a role."""
    path = path or roles_path()
    if not path.exists():
        return {"analysts": [], "viewers": []}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise TwowayError(f"{path}: not a valid roles file ({exc})") from None
    out = {}
    for key in ("analysts", "viewers"):
        entries = data.get(key, [])
        if not isinstance(entries, list) or not all(isinstance(e, str) for e in entries):
            raise TwowayError(f"{path}: '{key}' must be a list of e-mail addresses or @domains")
        out[key] = [e.strip().lower() for e in entries if e.strip()]
    return out


def _matches(email: str, entries: list[str]) -> bool:
    domain = "@" + email.rsplit("@", 1)[-1]
    return email in entries or domain in entries


def role_for(email: str | None, config: dict[str, list[str]]) -> str | None:
    """'analyst', 'viewer' or None (no access).

    Examples
    --------
    >>> cfg = {"analysts": ["ana@x.org"], "viewers": ["@x.org"]}
    >>> role_for("Ana@X.org", cfg), role_for("bo@x.org", cfg), role_for("eve@y.org", cfg)
    ('analyst', 'viewer', None)
    """
    if not email or "@" not in email:
        return None
    email = email.strip().lower()
    if _matches(email, config.get("analysts", [])):
        return "analyst"
    if _matches(email, config.get("viewers", [])):
        return "viewer"
    return None
