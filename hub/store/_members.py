"""Tables of the member registry: agencies, their jurisdictions, keys, certificates and grants."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hub.store._base import Base, UtcDateTime, utcnow


class MemberRow(Base):
    """An agency (or one subsystem of it), keyed ``<USCC>`` or ``<USCC>/<subsystem>``."""

    __tablename__ = "members"

    member_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    uscc: Mapped[str] = mapped_column(String(18), index=True)
    subsystem: Mapped[str] = mapped_column(String(40), default="")
    name: Mapped[str] = mapped_column(String(200), default="")
    kind: Mapped[str] = mapped_column(String(40), index=True)
    endpoint: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    revocation_reason: Mapped[str] = mapped_column(String(400), default="")

    jurisdictions: Mapped[list[JurisdictionRow]] = relationship(
        back_populates="member", cascade="all, delete-orphan", lazy="selectin"
    )
    signing_keys: Mapped[list[SigningKeyRow]] = relationship(
        back_populates="member", cascade="all, delete-orphan", lazy="selectin"
    )
    certificates: Mapped[list[CertificateRow]] = relationship(
        back_populates="member", cascade="all, delete-orphan", lazy="selectin"
    )
    grants: Mapped[list[GrantRow]] = relationship(
        back_populates="member", cascade="all, delete-orphan", lazy="selectin"
    )


class JurisdictionRow(Base):
    """One GB/T 2260 code prefix a member answers for (routing is longest-prefix)."""

    __tablename__ = "jurisdictions"

    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), primary_key=True)
    prefix: Mapped[str] = mapped_column(String(6), primary_key=True)

    member: Mapped[MemberRow] = relationship(back_populates="jurisdictions")


class SigningKeyRow(Base):
    """A member's envelope-signing public key; separate from its TLS key, as in X-Road."""

    __tablename__ = "signing_keys"

    keyid: Mapped[str] = mapped_column(String(64), primary_key=True)
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    suite: Mapped[str] = mapped_column(String(20))
    public_key_pem: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)

    member: Mapped[MemberRow] = relationship(back_populates="signing_keys")


class CertificateRow(Base):
    """A TLS client/server certificate issued to a member by the hub's CA."""

    __tablename__ = "certificates"

    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)  # SHA-256 of the DER, hex
    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), index=True)
    serial: Mapped[str] = mapped_column(String(40))
    pem: Mapped[str] = mapped_column(Text)
    not_after: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)

    member: Mapped[MemberRow] = relationship(back_populates="certificates")


class GrantRow(Base):
    """Permission for a member to call a service for a purpose (``*`` = any purpose)."""

    __tablename__ = "grants"

    member_id: Mapped[str] = mapped_column(ForeignKey("members.member_id"), primary_key=True)
    service: Mapped[str] = mapped_column(String(120), primary_key=True)
    purpose_code: Mapped[str] = mapped_column(String(80), primary_key=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)

    member: Mapped[MemberRow] = relationship(back_populates="grants")


class SeenMessageRow(Base):
    """Replay memory: a message id accepted once, remembered until its validity window closes."""

    __tablename__ = "seen_messages"

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sender: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        Index("ix_seen_messages_expires_at", "expires_at"),
        {"sqlite_with_rowid": False},  # SQLite: the key is the table, one B-tree fewer to write per request
    )
