"""Fixtures for the audit log: the hub's key, a log over the shared ``store`` fixture, records to append."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
from collections.abc import Callable

import pytest

from hub.audit import AuditLog, AuditRecord
from hub.envelope import SigningKey
from hub.store import Store

_counter = itertools.count()


@pytest.fixture(scope="session")
def hub_key() -> SigningKey:
    return SigningKey.generate("ed25519", owner="hub")


@pytest.fixture
def audit_log(store: Store, hub_key: SigningKey) -> AuditLog:
    return AuditLog(store, hub_key)


def token(n: int) -> bytes:
    """A stand-in subject token (16 bytes, as the tokenizer gives)."""
    return hashlib.sha256(f"person-{n}".encode()).digest()[:16]


def make_record(
    n: int | None = None, *, kind: str = "request", tokens: tuple[bytes, ...] = (), payload: bool = True
) -> AuditRecord:
    n = next(_counter) if n is None else n
    body = f"payload {n}".encode()
    return AuditRecord(
        kind=kind,
        message_id=f"0190c2a4-0000-7000-8000-{n:012d}",
        correlation_id=f"0190c2a4-0000-7000-8000-{n:012d}",
        sender="11130629MB1234567X/dibao",
        recipient="public-security@130629",
        service="hub.v1.Verification/HouseholdRegistration",
        purpose_code="dibao.application",
        legal_basis="社会救助暂行办法 第五十八条",
        case_number=f"容民救〔2025〕{n}号",
        consent_ref="",
        issued_at=dt.datetime(2025, 3, 14, 8, 0, tzinfo=dt.UTC) + dt.timedelta(microseconds=n),
        payload_sha256=hashlib.sha256(body).digest(),
        signatures=(("ab" * 32, bytes([n % 256]) * 64),),
        subject_tokens=tokens,
        payload=body if payload else None,
    )


RecordFactory = Callable[..., AuditRecord]


@pytest.fixture
def record() -> RecordFactory:
    return make_record
