"""A minimal Streamlit session over the real websocket, for tests and the load bench.

It speaks the same protocol as the browser (`/_stcore/stream`, protobuf `BackMsg` /
`ForwardMsg`): ask for a page with a query string, collect the elements the script sends
until `script_finished`, and report the time taken. Enough to read a page's metrics (label →
value) and text, without a browser, so tens of sessions fit on a 2-core machine.
Loopback addresses only: this is a test tool, not a crawler.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK = ("127.0.0.1", "localhost")


@dataclass
class PageRun:
    """What one script run sent: metrics (label → value), other text, errors, seconds taken."""

    seconds: float
    metrics: dict[str, str] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    finished: bool = False


def _collect(run: PageRun, msg: ForwardMsg) -> None:
    if msg.WhichOneof("type") != "delta" or msg.delta.WhichOneof("type") != "new_element":
        return
    el = msg.delta.new_element
    kind = el.WhichOneof("type")
    if kind == "metric":
        run.metrics[el.metric.label] = el.metric.body
    elif kind == "alert" and el.alert.format == el.alert.ERROR:
        run.errors.append(el.alert.body)
    elif kind == "exception":
        run.exceptions.append(f"{el.exception.type}: {el.exception.message}")
    elif kind == "markdown":
        run.texts.append(el.markdown.body)


def _ws_url(base: str) -> str:
    host = base.split("//", 1)[1].split(":", 1)[0]
    if host not in LOOPBACK:
        raise ValueError(f"st_client talks to loopback servers only, not {host!r}")
    return base.replace("http://", "ws://", 1).rstrip("/") + "/_stcore/stream"


class Session:
    """One browser-like session: a websocket kept open, pages run on it one after another."""

    def __init__(self, base: str, timeout: float = 120.0):
        self.url, self.timeout, self.ws = _ws_url(base), timeout, None

    async def __aenter__(self) -> "Session":
        self.ws = await websockets.connect(self.url, subprotocols=["streamlit"], max_size=2**28,
                                           open_timeout=self.timeout)
        return self

    async def __aexit__(self, *exc) -> None:
        await self.ws.close()

    async def run(self, page: str = "", query: str = "") -> PageRun:
        """Ask for `page` (its URL name; "" is the start page) and wait for the run to finish."""
        started = time.perf_counter()
        run = PageRun(seconds=0.0)
        back = BackMsg()
        back.rerun_script.query_string = query
        back.rerun_script.page_name = page
        await self.ws.send(back.SerializeToString())
        deadline = started + self.timeout
        while time.perf_counter() < deadline:
            data = await asyncio.wait_for(self.ws.recv(), timeout=max(deadline - time.perf_counter(), 0.1))
            msg = ForwardMsg()
            msg.ParseFromString(data)
            _collect(run, msg)
            if msg.WhichOneof("type") == "script_finished":  # a normal end, or st.stop()
                if msg.script_finished == ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                    # st.switch_page / st.rerun (the entry page sends "/" on to /overview): the
                    # page the person sees is the next run's
                    run = PageRun(seconds=0.0)
                    continue
                run.finished = True
                break
        run.seconds = time.perf_counter() - started
        return run


async def fetch_page(base: str, page: str = "", query: str = "", timeout: float = 120.0) -> PageRun:
    """Open a session on `base` (http://127.0.0.1:PORT), run `page` once, and close it."""
    async with Session(base, timeout) as session:
        return await session.run(page, query)


def get_page(base: str, page: str = "", query: str = "", timeout: float = 120.0) -> PageRun:
    return asyncio.run(fetch_page(base, page, query, timeout))


# -- running a server ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """`streamlit run app.py` on loopback with the given environment; stop() ends it."""

    def __init__(self, env: dict[str, str], log: Path, port: int | None = None):
        self.port = port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log
        self._log = open(log, "w")
        full_env = {**os.environ, **env}
        if "TWOWAY_MIN_GROUP_SIZE" not in env:  # the shipped default, unless the caller sets one
            full_env.pop("TWOWAY_MIN_GROUP_SIZE", None)
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.headless", "true",
             "--server.address", "127.0.0.1", "--server.port", str(self.port),
             "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"],
            cwd=ROOT, env=full_env, stdout=self._log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 90.0) -> "Server":
        deadline = time.time() + timeout
        while True:
            try:
                if urllib.request.urlopen(f"{self.base}/_stcore/health", timeout=2).read() == b"ok":
                    return self
            except OSError:
                pass
            if time.time() > deadline or self.proc.poll() is not None:
                self.stop()
                raise RuntimeError(f"streamlit did not start: {self.log_path.read_text()[-2000:]}")
            time.sleep(0.3)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
