"""Sign-in in a real browser against a local OpenID Connect provider, set up as the README says.

A copy of the project gets `.streamlit/secrets.toml` (the README's `[auth]` section, pointing at
the stand-in provider) and `.streamlit/roles.toml`; `streamlit run app.py` runs in that copy
and headless Chromium signs in through Streamlit's own `st.login` flow (Authlib): the app
redirects to the provider, the provider redirects back with a code, Streamlit exchanges it for
an id_token signed with the provider's RSA key and checks it against the provider's JWKS.

The stand-in is a few dozen lines of http.server on loopback: the discovery document, an
authorize endpoint that signs in whoever the test names next, a token endpoint and the JWKS.

Also checked here, in the same browser: a link whose department is a Markdown link renders no
link, and a link with 2,000 junk parameters (which Streamlit drops whole, filters included)
keeps its filters, says what it ignored and is cleaned in the address bar.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.fixtures import ROOT
from tests.test_browser import ARGS, ARTIFACTS, CHROMIUM, browser, free_port  # noqa: F401 (browser: the fixture)

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} is missing (apt-get install chromium)"),
]

CLIENT_ID, CLIENT_SECRET = "twoway-test", "s3cret"


class Provider:
    """A minimal OpenID Connect provider: every /authorize signs in `self.next_user` at once."""

    def __init__(self) -> None:
        from joserfc.jwk import RSAKey

        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key", "use": "sig", "alg": "RS256"})
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.next_user: dict = {}
        self.codes: dict[str, dict] = {}
        self.token_requests: list[dict] = []
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def _json(self, body: dict, status: int = 200) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                url = urllib.parse.urlparse(self.path)
                query = dict(urllib.parse.parse_qsl(url.query))
                if url.path == "/.well-known/openid-configuration":
                    self._json(provider.discovery())
                elif url.path == "/jwks":
                    self._json({"keys": [provider.key.as_dict(private=False)]})
                elif url.path == "/authorize":
                    assert query["client_id"] == CLIENT_ID and query["response_type"] == "code"
                    code = secrets.token_urlsafe(16)
                    provider.codes[code] = {"nonce": query.get("nonce"), "user": dict(provider.next_user)}
                    target = query["redirect_uri"] + "?" + urllib.parse.urlencode(
                        {"code": code, "state": query["state"]})
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.end_headers()
                else:
                    self._json({"error": "not_found"}, 404)

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                provider.token_requests.append(form)
                grant = provider.codes.pop(form.get("code", ""), None)
                if self.path != "/token" or grant is None:
                    self._json({"error": "invalid_grant"}, 400)
                    return
                self._json({"access_token": secrets.token_urlsafe(16), "token_type": "Bearer", "expires_in": 600,
                            "id_token": provider.id_token(grant["user"], grant["nonce"])})

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def discovery(self) -> dict:
        return {"issuer": self.issuer, "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token", "jwks_uri": f"{self.issuer}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "scopes_supported": ["openid", "email", "profile"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"]}

    def id_token(self, user: dict, nonce: str | None) -> str:
        from joserfc import jwt

        now = int(time.time())
        claims = {"iss": self.issuer, "aud": CLIENT_ID, "sub": user["email"], "iat": now, "exp": now + 600,
                  "nonce": nonce, **user}
        return jwt.encode({"alg": "RS256", "kid": "test-key"}, claims, self.key)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def copy_project(dest: Path) -> Path:
    """The files `streamlit run app.py` needs, without .streamlit/ or data/ of the checkout."""
    for name in ("app.py",):
        shutil.copy(ROOT / name, dest / name)
    for folder in ("analytics", "ui", "pages"):
        shutil.copytree(ROOT / folder, dest / folder, ignore=shutil.ignore_patterns("__pycache__"))
    return dest


@pytest.fixture(scope="module")
def signin_server(tmp_path_factory, demo_path):
    tmp = tmp_path_factory.mktemp("signin")
    project = copy_project(tmp_path_factory.mktemp("project"))
    db = tmp / "demo.duckdb"
    shutil.copy(demo_path, db)
    port = free_port()
    with Provider() as provider:
        # exactly the README's set-up: .streamlit/secrets.toml and .streamlit/roles.toml
        (project / ".streamlit").mkdir()
        (project / ".streamlit" / "secrets.toml").write_text(
            "[auth]\n"
            f'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
            f'cookie_secret = "{secrets.token_hex(32)}"\n'
            f'client_id = "{CLIENT_ID}"\n'
            f'client_secret = "{CLIENT_SECRET}"\n'
            f'server_metadata_url = "{provider.issuer}/.well-known/openid-configuration"\n')
        (project / ".streamlit" / "roles.toml").write_text(
            'analysts = ["ana@example.org", "@people-analytics.example.org"]\n'
            'viewers  = ["@example.org"]\n')
        env = {**os.environ, "TWOWAY_DB": str(db), "PYTHONPATH": str(project)}
        for name in ("TWOWAY_MIN_GROUP_SIZE", "TWOWAY_ROLES"):
            env.pop(name, None)
        log = open(tmp / "streamlit.log", "w")
        proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
                                 "--server.port", str(port), "--server.address", "127.0.0.1",
                                 "--browser.gatherUsageStats", "false"],
                                cwd=project, env=env, stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.time() + 60
            while True:
                try:
                    if urllib.request.urlopen(f"{base}/_stcore/health", timeout=2).read() == b"ok":
                        break
                except OSError:
                    pass
                if time.time() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"streamlit did not start: {(tmp / 'streamlit.log').read_text()[-2000:]}")
                time.sleep(0.3)
            yield base, provider, tmp / "streamlit.log"
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
            log.close()


def sign_in(browser, server, provider, user: dict):
    """A fresh browser profile signs in as `user` through the app's Sign in button."""
    base, _, log = server
    provider.next_user = user
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    page = context.new_page()
    page.goto(base)
    page.get_by_role("button", name="Sign in").click(timeout=120_000)
    # app → /auth/login → provider /authorize → /oauth2callback → app, now with the auth cookie
    page.wait_for_url(f"{base}/**", timeout=60_000)
    page.wait_for_function("() => !document.body.innerText.includes('Sign in to see whether')", timeout=60_000)
    page.wait_for_load_state("networkidle")
    assert page.locator('[data-testid="stException"]').count() == 0, log.read_text()[-3000:]
    return context, page


def nav_links(page) -> list[str]:
    nav = page.locator('[data-testid="stSidebarNav"] a')
    return [nav.nth(i).inner_text().strip().splitlines()[-1] for i in range(nav.count())]  # after the icon


def test_an_analyst_signs_in_and_gets_the_analyst_pages(signin_server, browser):
    base, provider, log = signin_server
    context, page = sign_in(browser, signin_server, provider,
                            {"email": "ana@example.org", "email_verified": True, "name": "Ana"})
    page.get_by_text("Signed in as ana\u2060@example.org (analyst).").wait_for(timeout=60_000)
    links = nav_links(page)
    assert "Data" in links and "Upload data" in links, links
    assert provider.token_requests and provider.token_requests[-1]["grant_type"] == "authorization_code"
    page.goto(f"{base}/data")
    page.get_by_role("heading", name="Data", exact=True).wait_for(timeout=120_000)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "signed-in-analyst.png"))

    # Markdown in a link's value is shown as text: no link to evil.example anywhere on the page
    evil = "[Sign in again](http://evil.example/login)"
    page.goto(f"{base}/data?department={urllib.parse.quote(evil)}")
    notice = page.locator('[data-testid="stAlert"]').filter(has_text="Sign in again")
    notice.wait_for(timeout=120_000)
    # the characters as typed (a word joiner, invisible, keeps "http://" from becoming a link)
    assert "'[Sign in again](http\u2060://evil.example/logi…'" in notice.inner_text()
    bad = page.locator('a[href*="evil.example"], img[src*="evil.example"]')
    assert bad.count() == 0, [bad.nth(i).evaluate("e => e.parentElement.outerHTML") for i in range(bad.count())]

    # 2,000 junk parameters: Streamlit drops the whole query string; the page keeps the filter
    junk = "&".join(f"x{i}=y" for i in range(2000))
    page.goto(f"{base}/activity?{junk}&department=Sales")
    page.get_by_text("This link was too long to open as it was").wait_for(timeout=120_000)
    page.wait_for_url(f"{base}/activity?department=Sales", timeout=60_000)
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(has_text="Department")
    assert box.locator('[data-tag]').first.get_attribute("aria-label") == "Sales"
    assert "2,000 unknown or over-long parameters were ignored" in page.locator(
        '[data-testid="stAlert"]').first.inner_text()
    context.close()


def test_a_viewer_signs_in_and_never_sees_the_analyst_pages(signin_server, browser):
    base, provider, _ = signin_server
    context, page = sign_in(browser, signin_server, provider,
                            {"email": "val@example.org", "email_verified": True, "name": "Val"})
    page.get_by_text("Signed in as val\u2060@example.org (viewer).").wait_for(timeout=60_000)
    links = nav_links(page)
    assert "Overview" in links and "Data" not in links and "Upload data" not in links, links
    page.goto(f"{base}/upload")
    page.wait_for_load_state("networkidle")
    page.get_by_text("Signed in as val\u2060@example.org (viewer).").wait_for(timeout=60_000)
    assert page.get_by_role("heading", name="Upload data").count() == 0
    context.close()


def test_an_unverified_email_gets_no_role(signin_server, browser):
    base, provider, _ = signin_server
    context, page = sign_in(browser, signin_server, provider,
                            {"email": "ana@example.org", "email_verified": False, "name": "Not Ana"})
    page.get_by_text("is not verified, so it gets no role").wait_for(timeout=60_000)
    assert nav_links(page) == []
    assert page.locator('[data-testid="stMetric"]').count() == 0
    context.close()
