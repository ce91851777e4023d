"""Connection strings: where the store's DSN comes from, and how to show one safely.

A DSN may carry a password (`postgresql://user:secret@host/db` or `password=secret`); every log
line and error message shows it through `mask_dsn`, and `DsnMaskingFilter` scrubs any that slip
into a log record's message or arguments.
"""

from __future__ import annotations

import logging
import os
import re

DSN_ENV = "THALEX_TRIO_DSN"
"""Environment variable naming an external PostgreSQL / TimescaleDB; unset means embedded."""

MASK = "***"

# URI form: scheme://user:password@host. The password runs to the last '@' before the path,
# so an unescaped '@' in it is masked too.
_URI_PASSWORD = re.compile(r"(?P<head>postgres(?:ql)?://[^:/@\s]*:)(?P<secret>[^\s/]*)(?=@)")
# Keyword form: password=secret or password='se cret', and the URI query form ?password=secret.
_KW_PASSWORD = re.compile(r"(?P<head>\bpassword\s*=\s*)(?P<secret>'(?:[^'\\]|\\.)*'|[^\s&]+)")


def mask_dsn(text: str) -> str:
    """`text` with every DSN password replaced by `***`; other text is left as it is."""
    masked = _URI_PASSWORD.sub(lambda m: m["head"] + (MASK if m["secret"] else ""), text)
    return _KW_PASSWORD.sub(lambda m: m["head"] + MASK, masked)


def dsn_from_env() -> str | None:
    """The external DSN from `THALEX_TRIO_DSN`, or None to use the embedded server."""
    value = os.environ.get(DSN_ENV, "").strip()
    return value or None


class DsnMaskingFilter(logging.Filter):
    """Masks DSN passwords in a record's message and string arguments before it is emitted."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record in place; never drops it."""
        if isinstance(record.msg, str):
            record.msg = mask_dsn(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(mask_dsn(a) if isinstance(a, str) else a for a in record.args)
        return True
