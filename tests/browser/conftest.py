"""Real-browser fixtures: a throw-away JupyterLab or Voilà server, and headless Chromium.

Everything here is local and disposable:

* The servers run from the project's own environment (``sys.executable``, i.e. .venv),
  on 127.0.0.1, on a free port, without a token, and serve *copies* of the course
  notebooks from a temporary folder, so a test can never change a committed notebook.
  They get their own Jupyter config, settings, workspace and runtime folders, so nothing
  from the user's ~/.jupyter leaks in, and JupyterLab's news and update checks are off.
* The kernels they start run the learner's setting (no ``LSTM_TEACH_QUICK``) and get
  **no** ``MPLBACKEND``: the explorers must draw through matplotlib's inline backend to
  show a picture.
* The browser is the system's Chromium (``/usr/bin/chromium`` or ``$LSTM_TEACH_CHROMIUM``),
  driven by Python Playwright with flags that keep it off the network and a fresh
  profile folder. ``playwright install`` (a browser download) is never used.

Tests that use these fixtures skip, with the reason printed, when Chromium or Playwright
is missing (``.ci/run`` installs both; locally: ``apt-get install chromium`` and
``pip install -e '.[browser]'``).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
# Flags from the machine notes: no sandbox (we run as root in CI), no GPU, and none of
# Chromium's own background traffic (updates, sync, field trials, QUIC probes).
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-quic",
    "--metrics-recording-only",
]
VIEWPORT = {"width": 1400, "height": 1000}
SERVER_START_TIMEOUT = 90.0  # seconds; typically 3-6 s, but CI runs notebooks alongside


# --------------------------------------------------------------------------------------
# what is available
# --------------------------------------------------------------------------------------
def chromium_executable() -> str | None:
    """Path of the system Chromium, or None. ``$LSTM_TEACH_CHROMIUM`` overrides the search."""
    override = os.environ.get("LSTM_TEACH_CHROMIUM")
    if override:
        return override if os.access(override, os.X_OK) else None
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = chromium_executable()
    if path is None:
        pytest.skip(
            "Chromium is not installed (apt-get install chromium; or point "
            "LSTM_TEACH_CHROMIUM at a Chromium binary). `playwright install` is not used."
        )
    return path


@pytest.fixture(scope="module")
def browser_context(chromium_path, tmp_path_factory):
    """A headless Chromium for one test module, with a fresh, empty profile folder.

    Module scope, not session: while Playwright's sync API is active it marks its own
    asyncio loop as running in this thread, which would trip nbclient/nbval tests that
    the same pytest-xdist worker runs next. Closing it with the module keeps them apart.
    """
    sync_api = pytest.importorskip(
        "playwright.sync_api",
        reason="Playwright is not installed (pip install -e '.[browser]')",
    )
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium_path,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport=VIEWPORT,
        )
        context.set_default_timeout(60_000)
        # Nothing leaves this machine: a request to any host but loopback is aborted.
        context.route(_is_external, lambda route: route.abort())
        try:
            yield context
        finally:
            context.close()


def _is_external(url: str) -> bool:
    """True for any URL that would leave the machine (everything but loopback and data:)."""
    if url.startswith(("data:", "blob:", "about:")):
        return False
    host = url.split("://", 1)[-1].split("/", 1)[0].rsplit(":", 1)[0]
    return host not in {"127.0.0.1", "localhost", "[::1]"}


@pytest.fixture
def page(browser_context):
    """A new tab; closed after the test. Console errors are kept in ``page.console_errors``."""
    tab = browser_context.new_page()
    tab.console_errors = []
    tab.on("console", lambda msg: msg.type == "error" and tab.console_errors.append(msg.text))
    try:
        yield tab
    finally:
        tab.close()


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    """tests/browser/artifacts/ (gitignored): screenshots a person can look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


# --------------------------------------------------------------------------------------
# throw-away servers
# --------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    """A server process started by a fixture; ``url`` is its base URL (ends with /)."""

    process: subprocess.Popen
    url: str
    root: Path
    log: Path
    printed_urls: list[str] = field(default_factory=list)

    def log_tail(self, n: int = 40) -> str:
        lines = self.log.read_text(errors="replace").splitlines()
        return "\n".join(lines[-n:])

    def stop(self) -> None:
        """Stop the server and the kernels it started (its own process group)."""
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=5)
            except ProcessLookupError:
                pass


def _http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return None


def start_server(argv: list[str], url: str, ready_path: str, workdir: Path, env: dict,
                 ready=lambda status: status == 200) -> Server:
    """Start ``argv`` in its own process group; wait until ``url + ready_path`` is ``ready``.

    ``ready`` gets the HTTP status (None while nothing answers).
    """
    log = workdir / "server.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            argv, cwd=workdir, env=env, stdout=sink, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    server = Server(process, url, workdir, log)
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{' '.join(argv[:4])} exited with {process.returncode}:\n"
                               f"{server.log_tail()}")
        if ready(_http_status(url + ready_path)):
            return server
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"{url + ready_path} was not ready within "
                       f"{SERVER_START_TIMEOUT:.0f} s:\n{server.log_tail()}")


def kernel_environment(home: Path) -> dict:
    """The environment for a server and its kernels: the venv first, the learner's setting, no Agg."""
    env = dict(os.environ)
    env.pop("MPLBACKEND", None)  # ipykernel then picks the inline backend, which shows plots
    env.pop("JUPYTER_TOKEN", None)
    for key in [k for k in env if k.startswith(("PYTEST_", "COV_"))]:
        env.pop(key)
    env.pop("LSTM_TEACH_QUICK", None)  # the learner's setting: what `make lab` gives
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    env["PYTHONUNBUFFERED"] = "1"
    # A private Jupyter home: no user config, settings or saved workspace can interfere.
    for var, sub in {
        "JUPYTER_CONFIG_DIR": "config",
        "JUPYTER_RUNTIME_DIR": "runtime",
        "JUPYTERLAB_SETTINGS_DIR": "settings",
        "JUPYTERLAB_WORKSPACES_DIR": "workspaces",
        "IPYTHONDIR": "ipython",
    }.items():
        (home / sub).mkdir(parents=True, exist_ok=True)
        env[var] = str(home / sub)
    return env


def _write_json(path: Path, data: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2))


def lab_settings(home: Path) -> None:
    """JupyterLab user settings for a deterministic, offline, read-only-ish session."""
    settings = home / "settings"
    # Render every cell (no virtual scrolling), so every output is in the DOM.
    _write_json(settings / "@jupyterlab/notebook-extension/tracker.jupyterlab-settings",
                {"windowingMode": "none"})
    # Belt and braces on top of working on copies: never write the notebook back.
    _write_json(settings / "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings",
                {"autosave": False})
    # No "receive Jupyter news?" toast (and no fetch of the news feed).
    _write_json(home / "config" / "labconfig" / "page_config.json",
                {"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})


def copy_tree(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(
        ".ipynb_checkpoints", "__pycache__", "*.pyc"))
    return target


@pytest.fixture(scope="module")
def jupyter_lab(tmp_path_factory):
    """JupyterLab serving a copy of notebooks/ on 127.0.0.1 without a token.

    Yields a :class:`Server`; ``server.root`` holds the copies (``server.root / "notebooks"``).
    """
    home = tmp_path_factory.mktemp("jupyter-lab")
    copy_tree(REPO_ROOT / "notebooks", home / "root" / "notebooks")
    lab_settings(home)
    port = free_port()
    argv = [
        sys.executable, "-m", "jupyterlab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={home / 'root'}",
        "--IdentityProvider.token=",
        "--ServerApp.password=",
        "--ServerApp.disable_check_xsrf=True",
        "--ServerApp.allow_root=True",
        "--ServerApp.terminals_enabled=False",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LanguageServerManager.autodetect=False",
    ]
    server = start_server(argv, f"http://127.0.0.1:{port}/", "lab", home,
                          kernel_environment(home))
    server.root = home / "root"
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def voila_app(tmp_path_factory):
    """``make app`` itself, on a free port: Voilà serving apps/gate_explorer.ipynb.

    Yields a :class:`Server` whose ``url`` is the URL that ``make app`` printed. Voilà
    only executes the notebook, it never writes it, so the committed file is served.
    """
    voila = REPO_ROOT / ".venv" / "bin" / "voila"
    if not voila.exists():
        pytest.skip("Voilà is not installed in .venv (`make app` installs it; or "
                    "pip install -e '.[app]')")
    make = shutil.which("make")
    if make is None:
        pytest.skip("make is not installed")
    home = tmp_path_factory.mktemp("voila")
    port = free_port()
    argv = [
        make, "-s", "--no-print-directory", "-C", str(REPO_ROOT),
        # the test runs inside .venv already: never let make reinstall it mid-test
        "-o", ".venv/.lstm-teach-installed",
        "app", f"APP_PORT={port}", "IP=127.0.0.1",
        "VOILA_ARGS=--VoilaConfiguration.show_tracebacks=True",
    ]
    server = start_server(argv, f"http://127.0.0.1:{port}/", "voila/static/", home,
                          kernel_environment(home), ready=lambda status: status is not None)
    server.printed_urls = re.findall(r"http://\S+", server.log.read_text())
    try:
        yield server
    finally:
        server.stop()


# --------------------------------------------------------------------------------------
# driving ipywidgets in the page (JupyterLab and Voilà render them with the same DOM)
# --------------------------------------------------------------------------------------
class WidgetDriver:
    """Find an ipywidgets slider by its description, move it with the keyboard, read it."""

    def __init__(self, page):
        self.page = page

    def slider(self, description: str):
        """The first horizontal slider whose label reads exactly ``description``."""
        label = self.page.locator("label.widget-label").filter(has_text=description)
        return self.page.locator(".widget-hslider", has=label).first

    @staticmethod
    def explorer_of(slider):
        """The explorer (the innermost VBox) that holds ``slider``."""
        return slider.locator("xpath=ancestor::div[contains(@class, 'widget-vbox')][1]")

    @staticmethod
    def readout(slider) -> str:
        return slider.locator(".widget-readout").inner_text().strip()

    @staticmethod
    def handle(slider):
        return slider.locator(".noUi-handle").first

    @staticmethod
    def plot(explorer):
        """The explorer's current matplotlib image (inside its Output widget)."""
        return explorer.locator(".widget-output img").first

    def press(self, slider, key: str, times: int) -> None:
        """Focus the slider's handle and press ``key`` ``times`` times, like a person."""
        handle = self.handle(slider)
        handle.scroll_into_view_if_needed()
        handle.focus()
        for _ in range(times):
            handle.press(key)
            self.page.wait_for_timeout(60)

    def wait_for_new_plot(self, explorer, old_src: str, settle_ms: int = 1500,
                          timeout_s: float = 45.0) -> str:
        """Wait until the explorer shows a different image that stays put for ``settle_ms``.

        Each key press recomputes (``continuous_update``), so several images may come
        and go; the last one is the one that matches the final slider value.
        """
        deadline = time.monotonic() + timeout_s
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            img = self.plot(explorer)
            src = img.get_attribute("src") if img.count() else None
            if src != last:
                last, since = src, time.monotonic()
            elif src and src != old_src and (time.monotonic() - since) * 1000 >= settle_ms:
                return src
            self.page.wait_for_timeout(100)
        raise AssertionError(f"the plot did not change within {timeout_s:.0f} s of moving "
                             "the slider")

    def wait_for_settled_plot(self, explorer, settle_ms: int = 1500,
                              timeout_s: float = 45.0) -> str:
        """Wait until the explorer's image has stayed the same for ``settle_ms``.

        After Run All the frontend may still be drawing: a later cell can drive an
        explorer from code, and its comm messages arrive after the kernel is idle. A
        screenshot taken while the image is being replaced finds it detached.
        """
        deadline = time.monotonic() + timeout_s
        last, since = None, time.monotonic()
        while time.monotonic() < deadline:
            img = self.plot(explorer)
            src = img.get_attribute("src") if img.count() else None
            if src != last:
                last, since = src, time.monotonic()
            elif src and (time.monotonic() - since) * 1000 >= settle_ms:
                return src
            self.page.wait_for_timeout(100)
        raise AssertionError(f"the explorer's plot did not settle within {timeout_s:.0f} s")


@pytest.fixture
def widgets_ui(page) -> WidgetDriver:
    return WidgetDriver(page)
