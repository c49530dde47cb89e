"""Audit the locked dependencies for known vulnerabilities; say so plainly when it cannot.

`make audit` runs this. pip-audit reads `requirements.lock` (hashes required, nothing
resolved afresh). Offline, or when the vulnerability database cannot be reached, it prints
that the audit could not be done and exits 2: never "no known vulnerabilities" without
having looked.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LOCK = Path(__file__).resolve().parent.parent / "requirements.lock"
UNREACHABLE = (
    "ConnectionError",
    "Max retries",
    "Name or service not known",
    "Temporary failure",
    "NewConnectionError",
    "timed out",
    "Network is unreachable",
    "ProxyError",
)


def main() -> int:
    """Run pip-audit on the lock; 0 clean, 1 vulnerable, 2 could not audit."""
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--require-hashes",
        "--disable-pip",
        "--progress-spinner",
        "off",
        "-r",
        str(LOCK),
    ]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"could not audit: {exc}", file=sys.stderr)
        return 2
    output = done.stdout + done.stderr
    if done.returncode != 0 and any(marker in output for marker in UNREACHABLE):
        print(
            "could not audit: the vulnerability database is unreachable (offline?);"
            " nothing was checked",
            file=sys.stderr,
        )
        return 2
    if "No module named pip_audit" in output:
        print("could not audit: pip-audit is not installed", file=sys.stderr)
        return 2
    print(output.strip())
    return 0 if done.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
