"""Sign-in and roles for the dashboard.

Without an ``[auth]`` section in ``.streamlit/secrets.toml`` Twoway runs in single-user local
mode (whoever runs it is an analyst) and says so. With Streamlit's OIDC login configured,
people sign in with `st.login`; their role comes from `analytics.roles` (viewers see the
dashboards; analysts also upload, map and undo imports). Pages an account may not use are not
registered with `st.navigation` at all, so they cannot be reached by URL either; the upload
page also calls `require_role("analyst")` itself.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from pathlib import Path

import streamlit as st

from analytics import roles
from analytics.errors import TwowayError
from ui.text import plain


@dataclass(frozen=True)
class User:
    email: str | None
    name: str
    role: str
    local: bool = False

    @property
    def is_analyst(self) -> bool:
        return self.role == "analyst"


LOCAL_USER = User(None, "local user", "analyst", local=True)


PAGES_DIR = Path(__file__).resolve().parent.parent / "pages"
_ENTRY_KEY = "_twoway_entered_through_app"
_WANTED_KEY = "_twoway_wanted_page"


def mark_app_entry() -> None:
    """Called by app.py: this session's pages run inside its navigation and role checks."""
    st.session_state[_ENTRY_KEY] = True


def require_app_entry() -> None:
    """Send a session that reached a page file directly back through app.py, keeping its link.

    With a `pages/` folder, a fresh server maps `/<name>` straight to `pages/<name>.py` for the
    first request it sees, before app.py has run once: that request would skip the navigation
    and the role check. The page and its query string are remembered and reopened by app.py
    (`resume_wanted_page`) once the navigation exists.
    """
    if st.session_state.get(_ENTRY_KEY):
        return
    st.session_state[_WANTED_KEY] = (_calling_page(), {k: st.query_params.get_all(k) for k in st.query_params})
    st.switch_page("app.py")


def _calling_page() -> str:
    """The url path of the page file being run: its file name (`pages/claims.py` → `claims`)."""
    for frame in inspect.stack():
        path = Path(frame.filename)
        if path.parent == PAGES_DIR:
            return path.stem
    return ""


def resume_wanted_page(pages) -> None:
    """In app.py after st.navigation: reopen the page a redirected deep link asked for.

    The default page (whose URL is the root) and pages this person may not open stay on the
    page navigation chose; the link's filters are restored either way.
    """
    wanted = st.session_state.pop(_WANTED_KEY, None)
    if not wanted:
        return
    path, params = wanted
    for page in pages:
        if page.url_path and page.url_path == path:
            st.switch_page(page, query_params=params)
    st.query_params.from_dict(params)


def auth_configured() -> bool:
    """True when secrets hold an [auth] section (Streamlit's OIDC login)."""
    try:
        return "auth" in st.secrets
    except Exception:  # no secrets file at all: Streamlit raises instead of saying "absent"
        return False


def current_user() -> User:
    """The signed-in person with their role; stops the page with a sign-in prompt otherwise."""
    if not auth_configured():
        return LOCAL_USER
    if not st.user.is_logged_in:
        st.title("Twoway")
        st.write("Sign in to see whether the reverse-mentoring programme works.")
        st.button("Sign in", on_click=st.login, type="primary")
        st.stop()
    email = st.user.get("email")
    try:
        config = roles.load_roles()
    except TwowayError as exc:  # a broken roles file: nobody gets in, and the page says why (no server path)
        path = roles.roles_path()
        st.error(f"Sign-in is configured but the roles file is wrong: {plain(str(exc).replace(str(path), path.name))}",
                 icon=":material/error:")
        st.stop()
    if not email_verified(st.user.to_dict()):
        st.error(f"{plain(email) if email else 'This account'}: the sign-in provider says this e-mail address is "
                 "not verified, so it gets no role. Verify it with the provider and sign in again.",
                 icon=":material/error:")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    role = roles.role_for(email, config)
    if role is None:
        st.error(f"{plain(email) if email else 'This account'} has no access to Twoway. Ask an analyst to add you to the roles file.")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    return User(email, st.user.get("name") or email, role)


def email_verified(claims: dict) -> bool:
    """False when the identity token says the e-mail is unverified (``email_verified`` false).

    Roles are granted by e-mail address, and some providers let anyone type any address into
    an account: an address the provider has not verified proves nothing. Providers that never
    send the claim (Microsoft Entra ID, for one) are trusted to have checked it themselves.

    Examples
    --------
    >>> email_verified({"email_verified": True}), email_verified({}), email_verified({"email_verified": "false"})
    (True, True, False)
    """
    value = claims.get("email_verified", True)
    if isinstance(value, str):
        return value.strip().lower() == "true"
    return value is True


def require_role(role: str) -> User:
    """Stop the page unless the current person has `role` (analysts have every role)."""
    user = current_user()
    if role == "analyst" and not user.is_analyst:
        st.error("Only analysts may use this page.")
        st.stop()
    return user


def account_box(user: User) -> None:
    """Who is signed in (or that this is local mode), at the foot of the sidebar."""
    with st.sidebar:
        st.divider()
        if user.local:
            st.caption("Single-user local mode: no sign-in is configured, so whoever runs Twoway is an analyst.")
        else:
            st.caption(f"Signed in as {plain(user.email)} ({user.role}).")
            st.button("Sign out", on_click=st.logout, type="tertiary")
