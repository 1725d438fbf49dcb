"""The record-kind declarations match the wire contract, field for field, and the public surface is deliberate."""

from __future__ import annotations

from typing import Any

import pytest
from google.protobuf.descriptor import FieldDescriptor

import hub.feeds
from hub.errors import InvalidArgument
from hub.feeds import DEPARTMENTS, KINDS, FieldType, kind_by_code, record_tables
from hub.feeds._kinds import enum_codes, kind_by_wire
from hub.registry import KINDS as MEMBER_KINDS
from hub.v1 import feeds_pb2 as pb
from hub.v1 import verification_pb2 as vpb

_WIRE_TYPES = {
    FieldType.ID_NUMBER: FieldDescriptor.TYPE_STRING,
    FieldType.REGION: FieldDescriptor.TYPE_STRING,
    FieldType.DATE: FieldDescriptor.TYPE_STRING,
    FieldType.MONTH: FieldDescriptor.TYPE_STRING,
    FieldType.TEXT: FieldDescriptor.TYPE_STRING,
    FieldType.USCC: FieldDescriptor.TYPE_STRING,
    FieldType.AMOUNT: FieldDescriptor.TYPE_INT64,
    FieldType.ENUM: FieldDescriptor.TYPE_ENUM,
}


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.code)
def test_each_kind_declares_exactly_its_row_message(kind: hub.feeds.RecordKind) -> None:
    fields: list[Any] = list(kind.row_type.DESCRIPTOR.fields)
    assert [f.name for f in fields] == [s.name for s in kind.fields]
    for descriptor, spec in zip(fields, kind.fields, strict=True):
        assert descriptor.type == _WIRE_TYPES[spec.type], spec.name
        if spec.type is FieldType.ENUM:
            assert spec.codes == enum_codes(descriptor.enum_type)
    assert kind.person.name == "id_number"


def test_every_wire_kind_and_feed_rows_list_has_a_declaration() -> None:
    wire_kinds = {v.number for v in pb.RecordKind.DESCRIPTOR.values if v.number}
    assert wire_kinds == {kind.wire for kind in KINDS}
    lists: list[Any] = list(pb.FeedRows.DESCRIPTOR.oneofs_by_name["rows"].fields)
    assert {field.name: _row_message(field) for field in lists} == {
        kind.rows_field: kind.row_type.DESCRIPTOR.name for kind in KINDS
    }


def _row_message(list_field: Any) -> str:
    """``FeedRows.wages`` → ``WageRow``: the message repeated in the list's ``rows`` field."""
    name: str = list_field.message_type.fields_by_name["rows"].message_type.name
    return name


def test_departments_are_member_kinds_and_cover_the_wire_enum() -> None:
    assert set(DEPARTMENTS) <= set(MEMBER_KINDS)
    assert set(DEPARTMENTS.values()) == {v.number for v in pb.Department.DESCRIPTOR.values if v.number}
    assert {kind.department for kind in KINDS} == set(DEPARTMENTS)


def test_enum_codes_drop_the_enum_prefix_and_the_unset_value() -> None:
    assert enum_codes(pb.PropertyKind.DESCRIPTOR)[pb.PROPERTY_KIND_COMMERCIAL] == "commercial"
    assert enum_codes(vpb.Programme.DESCRIPTOR) == {
        1: "dibao",
        2: "tekun",
        3: "dibao_edge",
        4: "temporary",
        5: "rigid_expenditure",
        6: "relapse_monitoring",
    }
    assert 0 not in enum_codes(pb.CareKind.DESCRIPTOR)


def test_only_the_lists_comparisons_start_from_keep_numbers() -> None:
    keeping = {kind.code for kind in KINDS if any(spec.keep_raw for spec in kind.fields)}
    assert keeping == {"roster", "monitored_household"}
    roster, _ = record_tables(kind_by_code("roster"))
    assert {"id_number_enc", "household_head_id_number_enc"} <= set(roster.c.keys())
    settlements, _ = record_tables(kind_by_code("medical_settlement"))
    assert not any(column.name.endswith("_enc") for column in settlements.columns)


def test_by_person_tables_are_keyed_by_version_then_token() -> None:
    for kind in KINDS:
        records, by_person = record_tables(kind)
        assert [c.name for c in records.primary_key] == ["version", "row_number"]
        assert [c.name for c in by_person.primary_key] == ["version", "token", "row_number"]
        assert set(by_person.c.keys()) <= set(records.c.keys())


def test_unknown_kind_and_department_are_refused_by_name() -> None:
    with pytest.raises(InvalidArgument, match="not a record kind"):
        kind_by_code("tax_return")
    with pytest.raises(InvalidArgument) as caught:
        kind_by_wire(0)
    assert caught.value.field == "meta.kind"


def test_public_surface_is_pinned() -> None:
    assert sorted(hub.feeds.__all__) == [
        "ChunkAck",
        "DEFAULT_CHUNK_ROWS",
        "DEPARTMENTS",
        "FEED_PURPOSE",
        "FeedFreshness",
        "FeedIntake",
        "FeedMeta",
        "FeedService",
        "FeedUploader",
        "FieldSpec",
        "FieldType",
        "KINDS",
        "PERIODS",
        "Policy",
        "PreparedFeed",
        "PullConfig",
        "ROSTER_MATCHES",
        "Receipt",
        "RecordKind",
        "Rejection",
        "RetokenizeReport",
        "RowMapping",
        "UploadResult",
        "VersionState",
        "VersionStatus",
        "chunked",
        "current_versions",
        "encode_rows",
        "ensure_matches",
        "feed_handlers",
        "feed_status",
        "key_versions_in_use",
        "kind_by_code",
        "load_pull_config",
        "lookup_tokens",
        "make_chunk",
        "match_completed",
        "match_select",
        "open_csv",
        "prepare_feed",
        "pull_once",
        "record_tables",
        "relative_period",
        "retokenize",
        "scheduled_pulls",
        "table_names",
        "version_digest",
    ]
