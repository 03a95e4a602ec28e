"""Sign-in and roles for the dashboard.

Without an ``[auth]`` section in ``.streamlit/secrets.toml`` Twoway runs in single-user local
mode (whoever runs it is an analyst) and says so. With Streamlit's OIDC login configured,
people sign in with `st.login`; their role comes from `analytics.roles` (viewers see the
dashboards; analysts also upload, map and undo imports). Pages an account may not use are not
registered with `st.navigation` at all, so they cannot be reached by URL either; the upload
page also calls `require_role("analyst")` itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from analytics import roles


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
    role = roles.role_for(email, roles.load_roles())
    if role is None:
        st.error(f"{email or 'This account'} has no access to Twoway. Ask an analyst to add you to the roles file.")
        st.button("Sign out", on_click=st.logout)
        st.stop()
    return User(email, st.user.get("name") or email, role)


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
            st.caption(f"Signed in as {user.email} ({user.role}).")
            st.button("Sign out", on_click=st.logout, type="tertiary")
