"""The intake in two stages, as the Upload stream runs it: chunk n + 1 prepared while chunk n is written."""

from __future__ import annotations

import hashlib
import hmac

from hub.feeds import FeedIntake, chunked
from hub.feeds._receipt import ChunkAck
from hub.feeds._writes import PreparedChunk
from hub.privacy import Tokenizer
from hub.store import Store
from tests.feeds.conftest import SUPPLIER, IntakeFactory, count_rows, meta, person, valid_rows


def prepared(intake: FeedIntake, chunk: object, **options: object) -> PreparedChunk:
    outcome = intake.prepare_received(chunk, sender=SUPPLIER, **options)  # type: ignore[arg-type]
    assert isinstance(outcome, PreparedChunk)
    return outcome


def test_the_next_chunk_is_prepared_on_the_assumed_state_before_the_last_is_written(
    intake: FeedIntake, store: Store
) -> None:
    declared = meta("pipelined", records=12)
    chunks = list(chunked(declared, valid_rows("medical_settlement", 12), 4))
    first = prepared(intake, chunks[0])
    second = prepared(intake, chunks[1], assume=first.after)  # chunk 0 is not stored yet
    assert second.validated.row_numbers[0] == 5 and second.state.next_sequence == 1
    assert count_rows(store, "medical_settlement") == 0
    intake.store(first)
    intake.store(second)
    intake.store(prepared(intake, chunks[2], assume=second.after))
    receipt = intake.complete("pipelined")
    assert receipt.accepted_records == 12 and receipt.chunks == 3


def test_a_chunk_prepared_on_a_state_that_moved_is_prepared_again_when_written(
    make_intake: IntakeFactory, store: Store
) -> None:
    declared = meta("raced", records=8)
    chunks = list(chunked(declared, valid_rows("medical_settlement", 8), 4))
    mine, theirs = make_intake(), make_intake()
    first = prepared(mine, chunks[0])
    stale = prepared(mine, chunks[1], assume=first.after)
    theirs.receive(chunks[0], sender=SUPPLIER)  # another stream stores chunk 0, then chunk 1
    theirs.receive(chunks[1], sender=SUPPLIER)
    ack = mine.store(first)
    assert isinstance(ack, ChunkAck) and ack.duplicate  # found stored: acknowledged, not written again
    assert mine.store(stale).duplicate
    assert count_rows(store, "medical_settlement") == 8


def test_tokens_of_a_chunk_are_those_of_single_numbers() -> None:
    key = bytes(range(32))
    tokenizer = Tokenizer({1: key}, 1)
    numbers = [person(n) for n in range(5)] + ["11010519491231002x", "610104620927690"]
    reference = [
        hmac.new(key, tokenizer_form.encode(), hashlib.sha256).digest()[:16]
        for tokenizer_form in [*numbers[:5], "11010519491231002X", "610104196209276908"]
    ]
    assert tokenizer.tokens_with(1, numbers) == reference == [tokenizer.token(n) for n in numbers]
    canonical = [*numbers[:5], "11010519491231002X", "610104196209276908"]
    assert tokenizer.tokens_of_validated(1, canonical) == reference  # what the validator hands over
