"""Fetch GraphiQL's pinned npm files into the service's static files, or check the committed ones.

    python scripts/vendor_graphiql.py            # refetch with npm, refuse any hash that differs
    python scripts/vendor_graphiql.py --check    # offline: the committed files match their pins
    python scripts/vendor_graphiql.py --repin    # after editing a version: fetch, record new hashes

The pins are graphql_api/graphiql-vendor.lock, one file a line: package@version, the file's path
in the package, its sha384. npm checks each package tarball against the registry's own integrity
hash; this script checks every file it takes against the lock.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCK = ROOT / "graphql_api" / "graphiql-vendor.lock"
VENDOR = ROOT / "graphql_api" / "static" / "graphql_api" / "graphiql" / "vendor"


@dataclass(frozen=True)
class Pin:
    package: str  # name@version, as npm takes it
    path: str  # inside the package
    sha384: str  # "sha384-<base64>", as in a Subresource Integrity attribute

    @property
    def target(self) -> Path:
        return VENDOR / self.package / self.path


def sha384(data: bytes) -> str:
    return "sha384-" + base64.b64encode(hashlib.sha384(data).digest()).decode()


def read_lock() -> tuple[list[str], list[Pin]]:
    """The lock's comment lines and its pins."""
    comments: list[str] = []
    pins: list[Pin] = []
    for line in LOCK.read_text().splitlines():
        if line.startswith("#") or not line.strip():
            comments.append(line)
            continue
        package, path, digest = line.split()
        pins.append(Pin(package, path, digest))
    return comments, pins


def write_lock(comments: list[str], pins: list[Pin]) -> None:
    lines = [*comments, *(f"{pin.package} {pin.path} {pin.sha384}" for pin in pins)]
    LOCK.write_text("\n".join(lines) + "\n")


def npm_pack(package: str, destination: Path) -> Path:
    packed = subprocess.run(
        ["npm", "pack", package, "--pack-destination", str(destination), "--json"],
        capture_output=True,
        text=True,
        check=True,
    )
    filename: str = json.loads(packed.stdout)[0]["filename"]
    return destination / filename


def fetch(pins: list[Pin]) -> dict[Pin, bytes]:
    """Each pinned file's bytes, from its package's tarball as npm serves it."""
    files: dict[Pin, bytes] = {}
    with tempfile.TemporaryDirectory() as scratch:
        tarballs: dict[str, Path] = {}
        for pin in pins:
            if pin.package not in tarballs:
                tarballs[pin.package] = npm_pack(pin.package, Path(scratch))
            with tarfile.open(tarballs[pin.package]) as tarball:
                member = tarball.extractfile(f"package/{pin.path}")
                if member is None:
                    raise SystemExit(f"{pin.package} has no file {pin.path}")
                files[pin] = member.read()
    return files


def install(files: dict[Pin, bytes]) -> None:
    shutil.rmtree(VENDOR, ignore_errors=True)
    for pin, data in files.items():
        pin.target.parent.mkdir(parents=True, exist_ok=True)
        pin.target.write_bytes(data)


def check(pins: list[Pin]) -> list[str]:
    """What differs between the vendor directory and the lock."""
    problems = []
    for pin in pins:
        if not pin.target.is_file():
            problems.append(f"missing: {pin.target.relative_to(ROOT)}")
        elif sha384(pin.target.read_bytes()) != pin.sha384:
            problems.append(f"hash differs from its pin: {pin.target.relative_to(ROOT)}")
    expected = {pin.target for pin in pins}
    for path in sorted(VENDOR.rglob("*")):
        if path.is_file() and path not in expected:
            problems.append(f"not in the lock: {path.relative_to(ROOT)}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="verify the committed files, offline")
    mode.add_argument("--repin", action="store_true", help="fetch and record the new hashes")
    args = parser.parse_args()
    comments, pins = read_lock()
    if args.check:
        problems = check(pins)
        for problem in problems:
            print(problem, file=sys.stderr)
        return 1 if problems else 0
    files = fetch(pins)
    if args.repin:
        files = {Pin(pin.package, pin.path, sha384(data)): data for pin, data in files.items()}
        write_lock(comments, list(files))
    mismatched = [pin for pin, data in files.items() if sha384(data) != pin.sha384]
    for pin in mismatched:
        print(f"{pin.package} {pin.path}: npm served {sha384(files[pin])}", file=sys.stderr)
    if mismatched:
        return 1
    install(files)
    print(f"{len(files)} files in {VENDOR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
