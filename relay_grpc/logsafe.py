"""Log hygiene for the relay: values from clients cannot forge or flood log lines.

* :class:`SafeFormatter` escapes control characters (newlines, ESC, NUL, C1,
  lone surrogates) in every message, so a crafted job id or reason shows as
  ``\\n`` or ``\\x1b`` instead of starting a new, fake line.
* :class:`MalformedRequestFilter` turns grpc's ERROR traceback for a request
  that is not a valid protobuf message into one WARNING line.
"""

from __future__ import annotations

import logging
import re

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
MALFORMED = "refused a request that is not a valid protobuf message"


def escape_controls(text: str) -> str:
    """``text`` with every control character written as a Python escape."""
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape", "backslashreplace").decode("ascii"), text)


class SafeFormatter(logging.Formatter):
    """A Formatter that escapes control characters in the message (not in our own tracebacks)."""

    def format(self, record: logging.LogRecord) -> str:
        message = record.getMessage()
        safe = escape_controls(message)
        if safe != message:
            record = logging.makeLogRecord({**record.__dict__, "msg": safe, "args": None})
        return super().format(record)


class MalformedRequestFilter(logging.Filter):
    """grpc's ERROR with a traceback for a request that does not parse (DecodeError) -> one WARNING line."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("grpc") and _is_malformed(record):
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            record.msg, record.args = MALFORMED, None
            record.exc_info, record.exc_text, record.stack_info = None, None, None
        return True


def _is_malformed(record: logging.LogRecord) -> bool:
    from google.protobuf.message import DecodeError

    error = record.exc_info[1] if record.exc_info else None
    return isinstance(error, DecodeError) or str(record.msg).startswith("Exception deserializing")


def install(fmt: str = "%(asctime)s %(levelname)s %(name)s %(message)s") -> None:
    """Put the SafeFormatter on every root handler and the filter on grpc's loggers."""
    for handler in logging.getLogger().handlers:
        handler.setFormatter(SafeFormatter(fmt))
        handler.addFilter(MalformedRequestFilter())
