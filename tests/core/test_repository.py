"""What the repository holds: the web UI's npm lockfile pins versions and hashes with no registry addresses,
and no committed file names a package registry's host (the machines that build this reach registries by
their own configuration)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REGISTRY_HOSTS = ("registry.npmjs.org", "registry.yarnpkg.com", "files.pythonhosted.org", "pypi.org/simple",
                  "npmmirror.com", "deb.debian.org")  # fmt: skip


def test_the_npm_lockfile_pins_hashes_and_holds_no_addresses():
    assert "omit-lockfile-registry-resolved=true" in (ROOT / "web" / ".npmrc").read_text().splitlines()
    lock = json.loads((ROOT / "web" / "package-lock.json").read_text(encoding="utf-8"))
    packages = {k: v for k, v in lock["packages"].items() if k}
    assert len(packages) > 100
    assert not [k for k, v in packages.items() if "resolved" in v]
    assert not [k for k, v in packages.items() if not v.get("link") and not v.get("integrity")]
    assert "://" not in (ROOT / "web" / "package-lock.json").read_text(encoding="utf-8")


def test_no_committed_file_names_a_registry_host():
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    named = []
    for name in filter(None, files.decode().split("\0")):
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 5_000_000 or path == Path(__file__).resolve():
            continue
        text = path.read_bytes().decode("utf-8", errors="ignore")
        named += [f"{name}: {host}" for host in REGISTRY_HOSTS if host in text]
    assert not named, named
