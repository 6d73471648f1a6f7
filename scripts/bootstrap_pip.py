"""Install pip into a venv created with --without-pip.

Debian 12's python3 ships without ensurepip (that is the python3-venv package), so `make` falls back to
this: fetch pip's wheel from PyPI, check its published SHA-256, and let the wheel install itself.
"""

import hashlib
import json
import subprocess
import sys
import tempfile
import urllib.parse
import urllib.request
from pathlib import Path


def main() -> None:
    index = "https://pypi.org/pypi/pip/json"
    with urllib.request.urlopen(index, timeout=60) as response:
        release = json.load(response)
    wheel = next(f for f in release["urls"] if f["packagetype"] == "bdist_wheel")
    # Mirrors may answer with URLs relative to the JSON document.
    url = urllib.parse.urljoin(index, wheel["url"])
    with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310
        data = response.read()
    if hashlib.sha256(data).hexdigest() != wheel["digests"]["sha256"]:
        sys.exit("pip wheel checksum mismatch")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / wheel["filename"]
        path.write_bytes(data)
        subprocess.check_call([sys.executable, f"{path}/pip", "install", "--no-index", str(path)])  # noqa: S603

if __name__ == "__main__":
    main()
