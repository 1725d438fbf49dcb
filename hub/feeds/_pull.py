"""Pull mode: read an agency's SQL table or CSV drop as a feed version and upload it, once per scheduled run.

A pull is configured in TOML (``adapters/examples``-style: the agency's own column names mapped to the wire
fields)::

    member = "12100000MB0000012X"        # the supplying agency; its credentials come from the PKI folder
    hub = "hub.example:7443"              # default: server.listen of the hub configuration
    department = "medical-insurance"
    kind = "medical_settlement"           # default: the department's only record kind
    policy = "accept_valid"               # or "reject_version"
    period = "previous-month"             # or period_start / period_end; see PERIODS

    [source]                              # an SQL table or query ...
    type = "sql"
    url = "postgresql+psycopg://reader@db.yb.example/yb"
    table = "yb_js"                       # or: query = "SELECT … WHERE JSRQ BETWEEN :period_start AND :period_end"

    # [source]                            # ... or a CSV drop: a file, or the newest file matching in a folder
    # type = "csv"
    # path = "/exchange/yb"
    # pattern = "jsxx*.csv"
    # encoding = "auto"                   # UTF-8 or GBK, told apart by reading the file

    [columns]                             # wire field = the agency's column
    id_number = "SFZH"
    settled_on = "JSRQ"

    [values.care_kind]                    # the agency's codes = wire values
    "11" = "outpatient"
    "21" = "inpatient"

    [units]                               # amounts given in yuan instead of fen
    total_fen = "yuan"

Relative paths and SQLite URLs are resolved from the configuration file's folder. The version id is
derived from the data, so a run that finds the same data as the last one changes nothing and gets the
same receipt.

On a schedule: list the files in ``feeds.pull_configs`` and name ``scheduled_pulls`` as a job body, with a cron::

    [feeds]
    pull_configs = ["pulls/yb.toml", "pulls/rs.toml"]   # relative to data_dir
    [jobs.bodies]
    feed_pull = "hub.feeds:scheduled_pulls"
    [jobs.cron]
    feed_pull = "0 4 2 * *"                              # 04:00 on the 2nd: last month's data

The scheduler then records each run (counts, outcome) and runs it once across replicas; ``hubctl feeds
pull --config`` is the same thing by hand.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import tomllib
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from sqlalchemy.engine import make_url

from hub.errors import FailedPrecondition, HubError, InvalidArgument
from hub.feeds._chunks import DEFAULT_CHUNK_ROWS
from hub.feeds._kinds import kind_by_code, kind_for
from hub.feeds._meta import Policy
from hub.feeds._prepared import PreparedFeed, prepare_feed
from hub.feeds._receipt import Receipt
from hub.feeds._source import RowMapping, open_csv
from hub.feeds._upload import FeedUploader, Progress
from hub.store._base import utcnow

if TYPE_CHECKING:
    from hub.config import Settings
    from hub.grpc.client import HubClient

log = logging.getLogger(__name__)

#: Relative periods, judged on the run's date in China: the feed covers ...
PERIODS = ("today", "previous-day", "previous-week", "previous-month", "previous-quarter", "previous-year")
_CHINA = dt.timezone(dt.timedelta(hours=8))


class SqlSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["sql"]
    url: str
    table: str = ""
    schema_: str = Field(default="", alias="schema")
    #: A SELECT instead of a table; may use :period_start and :period_end.
    query: str = ""


class CsvSource(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["csv"]
    #: A CSV file, or a folder in which the newest file matching ``pattern`` is read.
    path: Path
    pattern: str = "*.csv"
    encoding: str = "auto"
    delimiter: str = ","


class PullConfig(BaseModel):
    """One pull: who supplies what, from where, with which column mapping."""

    model_config = ConfigDict(extra="forbid")

    member: str
    hub: str = ""
    department: str
    kind: str = ""
    policy: Policy = Policy.ACCEPT_VALID
    period: str = ""
    period_start: dt.date | None = None
    period_end: dt.date | None = None
    chunk_rows: int = Field(default=DEFAULT_CHUNK_ROWS, ge=1)
    source: SqlSource | CsvSource = Field(discriminator="type")
    columns: dict[str, str] = Field(default_factory=dict)
    values: dict[str, dict[str, str]] = Field(default_factory=dict)
    units: dict[str, Literal["fen", "yuan"]] = Field(default_factory=dict)
    #: Folder of the configuration file: relative paths start there.
    base: Path = Path()

    def record_kind(self) -> str:
        """The configured kind, or the department's only one."""
        return kind_for(self.department, self.kind).code

    def mapping(self) -> RowMapping:
        yuan = frozenset(name for name, unit in self.units.items() if unit == "yuan")
        return RowMapping(kind_by_code(self.record_kind()), self.columns, self.values, yuan)

    def covered(self, today: dt.date) -> tuple[dt.date, dt.date]:
        """The period the pulled version declares."""
        if self.period_start is not None and self.period_end is not None:
            return self.period_start, self.period_end
        if not self.period:
            raise InvalidArgument("period", f"set period ({', '.join(PERIODS)}) or period_start and period_end")
        return relative_period(self.period, today)


def relative_period(name: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """``(first day, last day)`` of a period named in ``PERIODS``, relative to ``today``."""
    if name == "today":
        return today, today
    if name == "previous-day":
        day = today - dt.timedelta(days=1)
        return day, day
    if name == "previous-week":
        monday = today - dt.timedelta(days=today.weekday() + 7)
        return monday, monday + dt.timedelta(days=6)
    if name == "previous-month":
        end = today.replace(day=1) - dt.timedelta(days=1)
        return end.replace(day=1), end
    if name == "previous-quarter":
        first_month = (today.month - 1) // 3 * 3 + 1
        end = today.replace(month=first_month, day=1) - dt.timedelta(days=1)
        start_month = end.month - 2
        return dt.date(end.year, start_month, 1), end
    if name == "previous-year":
        return dt.date(today.year - 1, 1, 1), dt.date(today.year - 1, 12, 31)
    raise InvalidArgument("period", f"{name!r} is none of {', '.join(PERIODS)}")


def load_pull_config(path: Path) -> PullConfig:
    """Read and check a pull configuration (``InvalidArgument`` names what is wrong)."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise InvalidArgument("config", f"{path}: {error}") from None
    try:
        config = PullConfig.model_validate({**document, "base": path.resolve().parent})
    except ValidationError as error:
        problem = error.errors()[0]
        loc = problem["loc"]  # without the discriminator pydantic puts after "source"
        where = ".".join(
            str(p) for i, p in enumerate(loc) if not (i and loc[i - 1] == "source" and p in ("sql", "csv"))
        )
        raise InvalidArgument(where or "config", f"{path.name}: {problem['msg']}") from None
    config.mapping()  # check the mapping before any run
    return config


@contextlib.contextmanager
def source_records(
    config: PullConfig, period: tuple[dt.date, dt.date]
) -> Iterator[tuple[list[str], Iterator[Sequence[Any]]]]:
    """``(header, records)`` of the configured source, read as a stream."""
    source = config.source
    if isinstance(source, CsvSource):
        with open_csv(_csv_file(config.base, source), encoding=source.encoding, delimiter=source.delimiter) as opened:
            yield opened
        return
    engine = sa.create_engine(_sql_url(config.base, source.url))
    try:
        with engine.connect() as connection:
            result = connection.execution_options(stream_results=True, yield_per=config.chunk_rows).execute(
                _select(source), {"period_start": period[0], "period_end": period[1]} if source.query else {}
            )
            yield list(result.keys()), (tuple(row) for row in result)
    finally:
        engine.dispose()


def _select(source: SqlSource) -> sa.Executable:
    if source.query:
        return sa.text(source.query)
    if not source.table:
        raise InvalidArgument("source.table", "name the table to read, or give a query")
    return sa.select(sa.text("*")).select_from(sa.table(source.table, schema=source.schema_ or None))


def _sql_url(base: Path, url: str) -> sa.URL:
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).is_absolute():
        parsed = parsed.set(database=str(base / parsed.database))
    return parsed


def _csv_file(base: Path, source: CsvSource) -> Path:
    path = source.path if source.path.is_absolute() else base / source.path
    if not path.is_dir():
        return path
    found = [p for p in path.glob(source.pattern) if p.is_file()]
    if not found:
        raise InvalidArgument("source.path", f"no file matching {source.pattern} in {path}")
    return max(found, key=lambda p: (p.stat().st_mtime_ns, p.name))


def read_source(config: PullConfig, today: dt.date) -> PreparedFeed:
    """The configured source read once into a prepared version (blocking: run it in a thread)."""
    period = config.covered(today)
    mapping = config.mapping()
    with source_records(config, period) as (header, records):
        return prepare_feed(
            mapping.reader(header).rows(records),
            department=config.department,
            kind=config.record_kind(),
            supplier=config.member,
            period_start=period[0],
            period_end=period[1],
            policy=config.policy,
            chunk_rows=config.chunk_rows,
        )


async def pull_once(
    config: PullConfig,
    settings: Settings,
    *,
    client: HubClient | None = None,
    today: dt.date | None = None,
    on_progress: Progress | None = None,
    on_read: Callable[[PreparedFeed], None] | None = None,
) -> Receipt:
    """Read the configured source, upload it as one feed version, and return the hub's verified receipt.

    ``client`` defaults to one for ``config.member`` built from the PKI folder of ``settings``; rows that cannot
    be sent at all are logged (without ID numbers) and left out. ``on_read`` is handed the prepared version
    once the source is read (its rows left out, and ``source_row`` for the receipt's row numbers).
    """
    today = today or utcnow().astimezone(_CHINA).date()
    feed = await asyncio.to_thread(read_source, config, today)  # minutes of I/O and encoding: off the event loop
    with feed:
        if on_read is not None:
            on_read(feed)
        if feed.left_out_count:
            first = "; ".join(f"row {r.row_number} {r.field}: {r.reason}" for r in feed.left_out[:5])
            log.warning(
                "pull: %d source rows cannot be sent (%s)",
                feed.left_out_count,
                first,
                extra={"version": feed.version_id},
            )
        own = client is None
        if client is None:
            from hub.feeds._connect import member_client

            client = member_client(settings, config.member, config.hub or None)
        try:
            result = await FeedUploader(client).upload(feed, on_progress)
        finally:
            if own:
                await client.aclose()
    receipt = result.receipt
    log.info(
        "pull: %s %s, %d accepted, %d rejected",
        receipt.version_id,
        receipt.status,
        receipt.accepted_records,
        receipt.rejected_records,
    )
    return receipt


class PullRun(Protocol):
    """What ``scheduled_pulls`` needs of the job context running it (``hub.jobs.JobContext`` has it)."""

    @property
    def settings(self) -> Settings: ...

    def progress(self, done: int, total: int | None = None) -> None: ...

    def count(self, name: str, n: int = 1) -> None: ...


async def scheduled_pulls(context: PullRun) -> dict[str, Any]:
    """Pull every source in ``feeds.pull_configs`` once: the body of a scheduled feed-pull job.

    One pull failing (its agency database down, its drop folder empty) does not keep the others from
    running; it is logged and listed in the report, and the run fails once all were tried, so the run
    history shows it. Running again is harmless: unchanged data names the same version, which the hub
    acknowledges without storing anything twice.
    """
    settings = context.settings
    paths = [p if p.is_absolute() else settings.data_dir / p for p in settings.feeds.pull_configs]
    failed: list[str] = []
    versions: list[str] = []
    context.progress(0, len(paths))
    for done, path in enumerate(paths, start=1):
        try:
            receipt = await pull_once(load_pull_config(path), settings)
        except Exception as error:  # one source down must not stop the others; reported below
            # Hub errors name fields and mask ID numbers; driver and file errors name files, tables, positions.
            problem = str(error) if isinstance(error, HubError) else f"{type(error).__name__}: {error}"
            log.warning("pull %s failed: %s", path.name, problem, extra={"pull_config": str(path)})
            failed.append(f"{path.name}: {problem}")
            context.count("failed")
        else:
            versions.append(receipt.version_id)
            context.count("pulled")
            context.count("accepted_records", receipt.accepted_records)
            context.count("rejected_records", receipt.rejected_records)
        context.progress(done, len(paths))
    if failed:
        raise FailedPrecondition(f"{len(failed)} of {len(paths)} pulls failed: " + "; ".join(failed))
    return {"pulls": len(paths), "versions": versions}
