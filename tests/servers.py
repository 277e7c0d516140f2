"""The assistant as `make run` starts it, for tests marked `model`.

One mechanism for every end-to-end test over REST: a seeded temporary
application database, an action server and a Rasa server on free ports, each
restartable or killable on its own (the crash tests kill one with SIGKILL).
"""

from __future__ import annotations

import base64
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest
import requests

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "models" / "current.tar.gz"
RASA = str(Path(sys.executable).with_name("rasa"))
TOKEN = "test-token-not-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def up(url: str) -> bool:
    try:
        requests.get(url, timeout=2)
        return True
    except requests.ConnectionError:
        return False


def wait_until(
    check: Callable[[], bool],
    seconds: float,
    process: subprocess.Popen | None = None,
) -> None:
    """Poll ``check``; fail fast when ``process`` died instead of coming up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited with {process.returncode}")
        if check():
            return
        time.sleep(0.3)
    raise AssertionError(f"not reached in {seconds} s")


def throwaway_keys() -> Dict[str, str]:
    """Throw-away encryption keys, so no test writes the project's var/keys."""
    key = base64.urlsafe_b64encode(b"k" * 32).decode()
    index = base64.urlsafe_b64encode(b"i" * 32).decode()
    return {"TIP_KEYS": f"ktest:{key}", "INDEX_KEY": index}


class Assistant:
    """Action server + Rasa server (REST, API on) over a seeded temporary database."""

    def __init__(self, tmp: Path, model: Path = MODEL) -> None:
        if not model.exists():
            pytest.fail("no trained model: run `make train` first")
        self.model = model
        self.tmp = tmp
        self.actions_port, self.rasa_port = free_port(), free_port()
        self.url = f"http://127.0.0.1:{self.rasa_port}"
        self.endpoints = tmp / "endpoints.yml"
        self.endpoints.write_text(
            (ROOT / "endpoints.yml")
            .read_text(encoding="utf-8")
            .replace("127.0.0.1:5055", f"127.0.0.1:{self.actions_port}"),
            encoding="utf-8",
        )
        self.database_url = f"sqlite:///{tmp / 'app.db'}"
        self.env = {
            **os.environ,
            **throwaway_keys(),
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": self.database_url,
            "TRACKER_STORE_URL": f"sqlite:///{tmp / 'tracker.db'}",
        }
        self.env.pop("REDIS_URL", None)
        for module in ("services.db", "services.loader"):
            subprocess.run(
                [sys.executable, "-m", module],
                cwd=ROOT,
                env=self.env,
                check=True,
                capture_output=True,
            )
        self.actions: subprocess.Popen | None = None
        self.rasa: subprocess.Popen | None = None

    def start_actions(self, **env: str) -> None:
        self.actions = subprocess.Popen(
            [RASA, "run", "actions", "--port", str(self.actions_port)],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=(self.tmp / "actions.log").open("a"),
            stderr=subprocess.STDOUT,
        )
        health = f"http://127.0.0.1:{self.actions_port}/health"
        wait_until(lambda: up(health), 240, self.actions)

    def start_rasa(self, ready: str = "/", **env: str) -> None:
        """Start Rasa (``env`` added to its environment); wait until ``ready``
        (a path) answers."""
        self.rasa = subprocess.Popen(
            [RASA, "run", "--model", str(self.model), "--enable-api"]
            + ["--auth-token", TOKEN, "--port", str(self.rasa_port)]
            + ["--credentials", "credentials.yml", "--endpoints", str(self.endpoints)],
            cwd=ROOT,
            env={**self.env, **env},
            stdout=(self.tmp / "rasa.log").open("a"),
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: up(f"{self.url}{ready}"), 240, self.rasa)

    def start(self) -> Assistant:
        self.start_actions()
        self.start_rasa()
        return self

    def kill_rasa(self) -> None:
        assert self.rasa is not None
        if self.rasa.poll() is None:
            self.rasa.send_signal(signal.SIGKILL)
        self.rasa.wait(30)

    def kill_actions(self) -> None:
        assert self.actions is not None
        if self.actions.poll() is None:
            self.actions.send_signal(signal.SIGKILL)
        self.actions.wait(30)

    def stop(self) -> None:
        for process in (self.rasa, self.actions):
            if process is not None and process.poll() is None:
                process.terminate()
        for process in (self.rasa, self.actions):
            if process is not None:
                process.wait(30)

    def rasa_log(self) -> str:
        return (self.tmp / "rasa.log").read_text(encoding="utf-8", errors="replace")

    def say(
        self,
        message: Any,
        sender: str = "citizen",
        metadata: Dict[str, Any] | None = None,
    ) -> Tuple[int, List[Dict]]:
        """POST one message to the REST channel: (status, replies)."""
        body: Dict[str, Any] = {"sender": sender, "message": message}
        if metadata is not None:
            body["metadata"] = metadata
        response = requests.post(
            f"{self.url}/webhooks/rest/webhook", json=body, timeout=120
        )
        replies = (
            response.json()
            if response.headers.get("content-type", "").startswith("application/json")
            else None
        )
        return response.status_code, replies or []


def reply_text(replies: List[Dict]) -> str:
    """Every text of one reply, whitespace-normalised, as one string."""
    return " ".join(" ".join(r.get("text", "") for r in replies).split())
