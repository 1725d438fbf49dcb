"""Tables for consent registrations (核查授权书): who signed, whom it covers, what for, until when."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store._base import Base, Token, UtcDateTime, utcnow


class ConsentRow(Base):
    __tablename__ = "consents"

    consent_ref: Mapped[str] = mapped_column(String(36), primary_key=True)
    registered_by: Mapped[str] = mapped_column(String(64), index=True)
    #: Space-separated scopes: member kinds ("hrss", "housing") or service names.
    scopes: Mapped[str] = mapped_column(Text)
    valid_until: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    document_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    revocation_reason: Mapped[str] = mapped_column(String(400), default="")


class ConsentSubjectRow(Base):
    """A person a consent names, as a token: ``signer`` (signed it) or ``covered`` (may be checked)."""

    __tablename__ = "consent_subjects"

    consent_ref: Mapped[str] = mapped_column(ForeignKey("consents.consent_ref"), primary_key=True)
    token: Mapped[bytes] = mapped_column(Token, primary_key=True)
    role: Mapped[str] = mapped_column(String(8), primary_key=True)

    __table_args__ = (Index("ix_consent_subjects_token", "token"),)
