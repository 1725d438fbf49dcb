"""The consent register (核查授权书): an authorisation keeps working across a token-key rotation."""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from hub.consent import ConsentBook
from hub.errors import ConsentOutOfScope
from hub.privacy import Tokenizer
from hub.store import Store
from hub.v1.verification_pb2 import ConsentRegistration

ASKER = "11110115MB0000007E"
PERSON = "11010519491231002X"
OTHER = "440308199901101512"


def registration(days: int = 30) -> ConsentRegistration:
    until = Timestamp()
    until.FromDatetime(dt.datetime.now(dt.UTC) + dt.timedelta(days=days))
    return ConsentRegistration(
        signer_id_numbers=[PERSON],
        covered_id_numbers=[PERSON],
        scopes=["hrss"],
        valid_until=until,
        document_sha256=hashlib.sha256(b"signed").digest(),
    )


def test_a_consent_registered_before_a_token_key_rotation_still_covers_its_persons(store: Store) -> None:
    tokenizer = Tokenizer.generate()
    book = ConsentBook(store, tokenizer)
    ref = book.register(ASKER, registration())
    tokenizer.rotate()  # `hubctl feeds retokenize` rotates the key; consents hold tokens under the old one
    book.require(ref, requester=ASKER, subjects=[PERSON], scopes=["hrss"])
    with pytest.raises(ConsentOutOfScope):  # still refuses a person it does not cover
        book.require(ref, requester=ASKER, subjects=[OTHER], scopes=["hrss"])
