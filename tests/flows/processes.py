"""What the real-server tests share: finding gunicorn, a free port, stopping a process group."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def stop_process_group(process: subprocess.Popen) -> None:
    """SIGTERM the group (gunicorn and its workers), SIGKILL if it lingers."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=15)
    except ProcessLookupError:
        pass
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def gunicorn_path() -> str:
    return _venv_program("gunicorn")


def granian_path() -> str:
    return _venv_program("granian")


def _venv_program(name: str) -> str:
    for candidate in (ROOT / ".venv" / "bin" / name, Path(sys.executable).with_name(name)):
        if candidate.exists():
            return str(candidate)
    raise RuntimeError(f"{name} is not installed in .venv")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict[str, str], *args: str, timeout: int = 300) -> str:
    """Run manage.py in a subprocess with `env`; its stdout, or RuntimeError with the end of stderr."""
    result = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=timeout)
    if result.returncode != 0:
        raise RuntimeError(f"manage.py {args[0]} failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return result.stdout


def wait_until_answering(process: subprocess.Popen, answers, *, timeout: float, log_tail, what: str = "") -> None:
    """Poll `answers()` until it is true; RuntimeError with the server's log if it exits or times out."""
    deadline = time.monotonic() + timeout
    while not answers():
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited early ({process.returncode}):\n{log_tail()}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"gunicorn did not answer{what} within {timeout} s:\n{log_tail()}")
        time.sleep(0.1)
