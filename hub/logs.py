"""Structured logging that never writes a raw ID number.

``configure_logging(verbosity, json)`` installs one handler on the root logger: one JSON object per line
(``timestamp``, ``level``, ``logger``, ``message``, then the record's ``extra`` fields, then ``exception``) for
log collectors, or a readable console line. Either way the handler carries ``RedactingFilter``, which masks
anything shaped like an 18- or 15-digit ID number (``110105********002X``; any run of 15+ digits) in the message,
its arguments, the extra fields, the exception text and the stack, so a careless
``log.info("checked %s", id_number)`` anywhere, third-party libraries included, is still safe. The audit trail has
its own rule (tokens only); this is the net under everything else.
"""

from __future__ import annotations

import datetime as dt
import json as _json
import logging
import re
import sys
from collections.abc import Mapping
from typing import Any, TextIO

from hub.identifiers import mask_id_number

#: Any run of 15 or more digits, or 17 digits and an X: an ID number even when glued to other digits (a bank
#: card number or a nanosecond timestamp is masked too; a false alarm is cheaper than a leak).
ID_NUMBER_PATTERN = re.compile(r"(?<!\d)(?:\d{17}[Xx]|\d{15,})(?!\d)")

_LEVELS = {0: logging.WARNING, 1: logging.INFO}
_RECORD_FIELDS = frozenset(logging.LogRecord("", 0, "", 0, "", (), None).__dict__) | {"message", "asctime"}
_HANDLER_MARK = "_hub_logs_handler"


def redact(text: str) -> str:
    """``text`` with every ID-number-shaped run masked."""
    return ID_NUMBER_PATTERN.sub(lambda m: mask_id_number(m.group()), text)


def _redact_value(value: Any) -> Any:
    """Masked copy of an extra field: strings, integers and containers are walked; other objects become strings."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool) or value is None or isinstance(value, float):
        return value
    if isinstance(value, int):
        text = str(value)
        return redact(text) if ID_NUMBER_PATTERN.search(text) else value
    if isinstance(value, Mapping):
        return {redact(str(k)): _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value(v) for v in value]
    return redact(str(value))


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller passed with ``extra=``."""
    return {k: v for k, v in record.__dict__.items() if k not in _RECORD_FIELDS and not k.startswith("_")}


class RedactingFilter(logging.Filter):
    """Masks ID numbers in a record before any formatter sees it; never drops a record.

    Put it on handlers (a logger's filters do not see records propagated from child loggers).
    """

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: keep what can be shown
            message = f"{record.msg} {record.args!r}"
        record.msg, record.args = redact(message), None
        for key, value in extra_fields(record).items():
            safe_key = redact(key)
            if safe_key != key:
                delattr(record, key)
            setattr(record, safe_key, _redact_value(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields that collide with the fixed keys are prefixed ``extra_``."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "timestamp": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            entry[f"extra_{key}" if key in entry else key] = value
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return _json.dumps(entry, ensure_ascii=False, default=str)


class ConsoleFormatter(logging.Formatter):
    """``2025-01-31 08:00:00,123 INFO  hub.server: message key=value …`` for people at a terminal."""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-5s %(name)s: %(message)s")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        extras = extra_fields(record)
        return (line + "".join(f" {k}={v}" for k, v in extras.items())) if extras else line


def level_for(verbosity: int) -> int:
    """0 → WARNING, 1 (``-v``) → INFO, 2 or more → DEBUG; negative (``-q``) → ERROR."""
    if verbosity < 0:
        return logging.ERROR
    return _LEVELS.get(verbosity, logging.DEBUG)


def configure_logging(verbosity: int, json: bool, *, stream: TextIO | None = None) -> logging.Handler:
    """Route all logging to ``stream`` (default stderr), redacted, as JSON lines or console lines.

    Calling it again replaces the handler it installed before (and nothing else), so tests and CLI
    commands can reconfigure freely. Returns the installed handler.
    """
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(old)
        old.close()
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    setattr(handler, _HANDLER_MARK, True)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if json else ConsoleFormatter())
    root.addHandler(handler)
    root.setLevel(level_for(verbosity))
    logging.captureWarnings(True)
    return handler
