"""Opening and saving an unchanged course notebook through a real Jupyter server changes nothing.

A Jupyter server (the one JupyterLab runs on) is started on a temporary copy of every
course notebook. Each notebook is read through the REST contents API, exactly as
JupyterLab loads it, and saved back with the same model, exactly as JupyterLab saves it.
The saved file must be byte-identical to the committed one: then opening a lesson never
marks it modified and autosave never rewrites a tracked file.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

pytest.importorskip("jupyter_server", reason="jupyter_server is not installed")

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = [p for folder in ("notebooks", "solutions", "exercises", "apps")
             for p in sorted((REPO_ROOT / folder).glob("*.ipynb"))]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(url: str, method: str = "GET", body: dict | None = None, token: str = ""):
    data = None if body is None else json.dumps(body).encode("utf-8")
    request = urllib.request.Request(url, data=data, method=method, headers={
        "Authorization": f"token {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read().decode("utf-8"))


@pytest.fixture(scope="module")
def jupyter_server(tmp_path_factory):
    """A jupyter server on 127.0.0.1 serving copies of the course notebooks; yields (url, root)."""
    home = tmp_path_factory.mktemp("roundtrip")
    root = home / "root"
    for path in NOTEBOOKS:
        target = root / path.relative_to(REPO_ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    port, token = _free_port(), "roundtrip-token"
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER")}
    env.update(JUPYTER_CONFIG_DIR=str(home / "config"), JUPYTER_DATA_DIR=str(home / "data"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"), JUPYTER_TOKEN=token)
    log = (home / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "jupyter_server", "--no-browser", "--ServerApp.ip=127.0.0.1",
         f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
         f"--ServerApp.root_dir={root}", "--ServerApp.allow_root=True"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _request(f"{url}/api/status", token=token)
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                if server.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("the jupyter server did not start:\n"
                                + (home / "server.log").read_text()[-2000:])
                time.sleep(0.3)
        yield url, root, token
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_open_and_save_through_jupyter_changes_nothing(jupyter_server, path):
    url, root, token = jupyter_server
    relative = path.relative_to(REPO_ROOT).as_posix()
    model = _request(f"{url}/api/contents/{relative}?type=notebook&content=1", token=token)
    assert model["format"] == "json" and model["content"]["cells"]
    saved = _request(f"{url}/api/contents/{relative}", method="PUT", token=token,
                     body={"type": "notebook", "format": "json", "content": model["content"]})
    assert saved["type"] == "notebook"
    assert (root / relative).read_bytes() == path.read_bytes(), (
        f"{relative} changes when Jupyter saves it unchanged: run `make strip` and commit")


def test_the_round_trip_test_can_fail(jupyter_server, tmp_path):
    """A notebook without language_info (as committed before) is rewritten by the server."""
    url, root, token = jupyter_server
    nb = json.loads(NOTEBOOKS[0].read_text(encoding="utf-8"))
    nb["metadata"]["kernelspec"]["display_name"] = "Python 3"
    text = json.dumps(nb, indent=2) + "\n"  # not Jupyter's own layout
    (root / "probe.ipynb").write_text(text, encoding="utf-8")
    model = _request(f"{url}/api/contents/probe.ipynb?type=notebook&content=1", token=token)
    _request(f"{url}/api/contents/probe.ipynb", method="PUT", token=token,
             body={"type": "notebook", "format": "json", "content": model["content"]})
    assert (root / "probe.ipynb").read_text(encoding="utf-8") != text
