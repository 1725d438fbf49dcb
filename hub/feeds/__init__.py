"""Departmental data feeds (部门数据): chunked, resumable, idempotent upload into typed, tokenised tables.

A supplying department uploads *feed versions*: complete snapshots of one record kind (education enrolments,
wages, property registrations, medical settlements, deaths, assistance rosters, ...) for a period. The core,
free of any transport::

    intake = FeedIntake(store, secrets.tokenizer, secrets.cipher, settings.feeds)
    for chunk in stream:                       # hub.v1.FeedChunk, each from a verified envelope
        intake.receive(chunk, sender=sender)   # or begin() / accept_chunk() directly
    receipt = intake.complete(version_id)      # -> Receipt; .to_proto() for the signed FeedReceipt

Rows are validated per row (ID number, region code, dates, amounts, enumerations), ID numbers are stored as
keyed tokens (encrypted copies only where findings must name the person), and a version becomes its feed's
current one atomically on completion. Readers use ``current_versions`` and ``record_tables``; a comparison reads
the persons a feed version shares with a roster version from ``ROSTER_MATCHES``, after ``ensure_matches``.

On the hub, ``feed_handlers(intake)`` answers ``Feeds/Upload`` and ``Feeds/Status``. On the supplier's side::

    with open_csv(path) as (header, records):                       # or any rows, e.g. from SQL
        feed = prepare_feed(RowMapping(kind).reader(header).rows(records), department=..., kind=..., ...)
    with feed:
        result = await FeedUploader(client).upload(feed)             # resumes, retries, checks the receipt

and ``pull_once(load_pull_config(path), settings)`` does all of it for a configured agency table or CSV drop
(``scheduled_pulls``, a job body, for every configured one on a cron).
"""

from hub.feeds._chunks import DEFAULT_CHUNK_ROWS, chunked, encode_rows, make_chunk, version_digest
from hub.feeds._handlers import FeedService, feed_handlers
from hub.feeds._intake import FeedIntake
from hub.feeds._kinds import DEPARTMENTS, KINDS, FieldSpec, FieldType, RecordKind, kind_by_code
from hub.feeds._matches import ensure_matches, match_completed, match_select
from hub.feeds._meta import FeedMeta, Policy, VersionStatus
from hub.feeds._prepared import PreparedFeed, prepare_feed
from hub.feeds._pull import PERIODS, PullConfig, load_pull_config, pull_once, relative_period, scheduled_pulls
from hub.feeds._receipt import ChunkAck, Receipt, VersionState
from hub.feeds._retokenize import RetokenizeReport, key_versions_in_use, lookup_tokens, retokenize
from hub.feeds._source import RowMapping, open_csv
from hub.feeds._status import FeedFreshness, current_versions, feed_status
from hub.feeds._tables import ROSTER_MATCHES, record_tables, table_names
from hub.feeds._upload import FEED_PURPOSE, FeedUploader, UploadResult
from hub.feeds._validate import Rejection

__all__ = [
    "DEFAULT_CHUNK_ROWS",
    "DEPARTMENTS",
    "FEED_PURPOSE",
    "KINDS",
    "PERIODS",
    "ROSTER_MATCHES",
    "ChunkAck",
    "FeedFreshness",
    "FeedIntake",
    "FeedMeta",
    "FeedService",
    "FeedUploader",
    "FieldSpec",
    "FieldType",
    "Policy",
    "PreparedFeed",
    "PullConfig",
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
