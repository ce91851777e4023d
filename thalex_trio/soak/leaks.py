"""The secrets check: nothing a soak produced may contain the private key or the DSN password.

The needles are every body line of the API key's PEM (each alone identifies the key) and the
database password. Logs, the artifacts directory (the store's journal included) and every
stored row of the run are scanned; any hit fails the soak.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from thalex_trio.soak.invariants import InvariantResult

if TYPE_CHECKING:
    from pathlib import Path

MIN_NEEDLE_CHARS = 16
"""Shorter PEM lines (the tail of the body) could match by chance; the full lines suffice."""


def pem_body_lines(pem: str) -> list[str]:
    """The base64 lines between a PEM's BEGIN and END markers."""
    lines = []
    inside = False
    for raw in pem.splitlines():
        line = raw.strip()
        if line.startswith("-----BEGIN"):
            inside = True
        elif line.startswith("-----END"):
            inside = False
        elif inside and len(line) >= MIN_NEEDLE_CHARS:
            lines.append(line)
    return lines


class SecretScanner:
    """Looks for each named secret in texts, byte strings and directory trees."""

    def __init__(self, secrets: dict[str, str]) -> None:
        self._needles = {name: value.encode() for name, value in secrets.items() if value}
        self.scanned = 0
        self.hits: list[str] = []

    def scan_bytes(self, where: str, data: bytes) -> None:
        """Record every secret found in `data` (found in `where`)."""
        self.scanned += 1
        for name, needle in self._needles.items():
            if needle in data:
                self.hits.append(f"{name} in {where}")

    def scan_text(self, where: str, text: str) -> None:
        """`scan_bytes` for a string."""
        self.scan_bytes(where, text.encode(errors="replace"))

    def scan_tree(self, root: Path) -> None:
        """Every file under `root` (blocking: run it in a worker thread)."""
        for path in sorted(root.rglob("*")):
            if path.is_file():
                self.scan_bytes(str(path), path.read_bytes())

    def result(self, what: str) -> InvariantResult:
        """The verdict: `what` says what was scanned."""
        return InvariantResult(
            "no_secrets_leaked",
            "neither the private key (any PEM body line) nor the DSN password appears in the "
            "bot's logs, the artifacts or the stored rows of the run",
            not self.hits and bool(self._needles),
            "; ".join(self.hits[:5]) or f"{what}: {self.scanned} items scanned, no hit",
        )
