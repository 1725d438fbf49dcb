"""Structured logging: JSON lines, console lines, and no raw ID number ever reaching the output."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.identifiers import id_check_character
from hub.logs import RedactingFilter, configure_logging, level_for, redact

ID = "11010519491231002X"
OTHER_ID = "440308199901101512"
LEGACY_ID = "610104620927690"


@pytest.fixture
def output() -> Iterator[io.StringIO]:
    """Logging configured into a buffer; the root logger is restored afterwards."""
    root = logging.getLogger()
    saved_handlers, saved_level = list(root.handlers), root.level
    buffer = io.StringIO()
    yield buffer
    for handler in list(root.handlers):
        if handler not in saved_handlers:
            root.removeHandler(handler)
    root.setLevel(saved_level)
    logging.captureWarnings(False)


def lines(buffer: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_json_lines_carry_the_fixed_fields_and_extras(output: io.StringIO) -> None:
    configure_logging(1, json=True, stream=output)
    logging.getLogger("hub.test").info("feed %s accepted", "medical", extra={"rows": 1200, "member": "学校"})
    [entry] = lines(output)
    assert entry["level"] == "INFO" and entry["logger"] == "hub.test"
    assert entry["message"] == "feed medical accepted"
    assert entry["rows"] == 1200 and entry["member"] == "学校"
    stamp = dt.datetime.fromisoformat(entry["timestamp"])
    assert stamp.tzinfo is not None and abs(dt.datetime.now(dt.UTC) - stamp) < dt.timedelta(minutes=1)


def test_extra_fields_cannot_overwrite_the_fixed_ones(output: io.StringIO) -> None:
    configure_logging(1, json=True, stream=output)
    logging.getLogger("hub.test").warning("real", extra={"level": "fake", "logger": "fake"})
    [entry] = lines(output)
    assert entry["level"] == "WARNING" and entry["extra_level"] == "fake" and entry["extra_logger"] == "fake"


def test_console_format_is_one_readable_line(output: io.StringIO) -> None:
    configure_logging(0, json=False, stream=output)
    logging.getLogger("hub.test").warning("slow answer", extra={"member": "hrss"})
    text = output.getvalue()
    assert text.count("\n") == 1
    assert "WARNING hub.test: slow answer member=hrss" in text


def test_verbosity_sets_the_level(output: io.StringIO) -> None:
    assert [level_for(v) for v in (-1, 0, 1, 2, 5)] == [40, 30, 20, 10, 10]
    configure_logging(0, json=True, stream=output)
    logging.getLogger("hub.test").info("hidden")
    logging.getLogger("hub.test").warning("shown")
    assert [e["message"] for e in lines(output)] == ["shown"]


def test_reconfiguring_replaces_only_its_own_handler(output: io.StringIO) -> None:
    root = logging.getLogger()
    before = len(root.handlers)
    configure_logging(1, json=True, stream=output)
    configure_logging(1, json=True, stream=output)
    assert len(root.handlers) == before + 1
    logging.getLogger("hub.test").warning("once")
    assert len(lines(output)) == 1


def test_no_raw_id_number_reaches_the_output(output: io.StringIO) -> None:
    configure_logging(2, json=True, stream=output)
    log = logging.getLogger("hub.deep.child")
    log.info("asked about %s and " + OTHER_ID, ID.lower(), extra={"subject": LEGACY_ID, "n": int(OTHER_ID)})
    log.info("nested", extra={"persons": [{"id": ID}, (OTHER_ID,)], ID: "as a key", "obj": object()})
    log.debug("%(who)s", {"who": ID})
    log.info("with stack", stack_info=True, extra={"note": f"stack of {ID}"})
    try:
        raise ValueError(f"bad row {ID}")
    except ValueError:
        log.exception("row refused: %s", OTHER_ID)
    text = output.getvalue()
    for raw in (ID, ID.lower(), OTHER_ID, LEGACY_ID):
        assert raw not in text
    assert "110105********002x" in text and "440308********1512" in text and "610104*****7690" in text
    entries = lines(output)
    assert len(entries) == 5
    assert "ValueError: bad row 110105********002X" in entries[-1]["exception"]
    assert entries[0]["n"] == "440308********1512"


def test_console_output_is_redacted_too(output: io.StringIO) -> None:
    configure_logging(1, json=False, stream=output)
    logging.getLogger("hub.test").warning("person %s", ID, extra={"other": OTHER_ID})
    assert ID not in output.getvalue() and OTHER_ID not in output.getvalue()


def test_filter_masks_without_dropping_records() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "id %s", (ID,), None)
    assert RedactingFilter().filter(record) is True
    assert record.getMessage() == "id 110105********002X"


def test_broken_format_strings_are_still_redacted() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "id %d " + ID, ("not a number",), None)
    RedactingFilter().filter(record)
    assert ID not in record.getMessage()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no numbers here", "no numbers here"),
        ("order 12345678901234", "order 12345678901234"),  # 14 digits: not an ID number
        ("x" + OTHER_ID + "y", "x440308********1512y"),
        ("card 6222021234567890123", "card 622202*********0123"),  # longer runs are masked too
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


digits = st.text("0123456789", min_size=17, max_size=17)


@settings(max_examples=200)
@given(st.text(), digits, st.text())
def test_an_id_number_inside_any_text_is_masked(before: str, first17: str, after: str) -> None:
    number = first17 + id_check_character(first17)
    assert number not in redact(before + number + after)
    assert first17[:15] not in redact(before + first17[:15] + after)
