"""Structured logging: `key=value` text by default, JSON lines by flag, secrets masked."""

from __future__ import annotations

import json
import logging
import re
import sys

_SECRET = re.compile(
    r"(eyJ[\w-]+\.[\w-]+\.[\w-]+)"  # a JWT
    r"|(-----BEGIN [A-Z ]*PRIVATE KEY-----.*?-----END [A-Z ]*PRIVATE KEY-----)"
    r"|((?:password|passwd|token|secret)=\S+)",
    re.DOTALL | re.IGNORECASE,
)


class SecretFilter(logging.Filter):
    """Masks tokens, private keys and `password=`-style values in every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the message with secrets masked; never drops a record."""
        message = record.getMessage()
        masked = _SECRET.sub("<redacted>", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the exception)."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as a JSON line."""
        out: dict[str, object] = {
            "ts": round(record.created, 6),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out)


def configure_logging(level: str, *, json_lines: bool) -> None:
    """Log to stderr at `level`, as text or JSON lines, with secrets masked."""
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(SecretFilter())
    if json_lines:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
