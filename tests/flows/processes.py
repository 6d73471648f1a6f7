"""Stopping the server processes that real-server tests start in their own process group."""

import os
import signal
import subprocess


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
