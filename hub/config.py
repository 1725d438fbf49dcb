"""Configuration: defaults < TOML file < environment variables (``HUB_…``, nested with ``__``).

Example ``hub.toml``::

    data_dir = "/var/lib/assistance-hub"
    database_url = "postgresql://hub@db/hub"
    [server]
    listen = "0.0.0.0:7443"
    [policy]
    clock_skew_seconds = 120

Environment: ``HUB_DATABASE_URL=…``, ``HUB_SERVER__LISTEN=…``, ``HUB_POLICY__CLOCK_SKEW_SECONDS=…``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

HUB_MEMBER_ID = "hub"


class ServerSettings(BaseModel):
    listen: str = "127.0.0.1:7443"
    insecure: bool = False
    #: Seconds in-flight calls get to finish on SIGTERM.
    shutdown_grace_seconds: float = 5.0
    workers: int = 1


class PkiSettings(BaseModel):
    #: Folder with ``ca/`` and ``members/<member>/`` (see ``hubctl pki``). Relative to ``data_dir``.
    dir: Path = Path("pki")


class PolicySettings(BaseModel):
    clock_skew_seconds: float = 120.0
    #: Longest validity window a sender may declare (expires_at - issued_at).
    max_validity_seconds: float = 3600.0
    max_message_bytes: int = 4 * 1024 * 1024


class RoutingSettings(BaseModel):
    node_deadline_seconds: float = 5.0
    #: Extra attempts for idempotent calls to an agency node that did not answer.
    idempotent_retries: int = 2
    #: Per-source deadline of a household check when the request names none.
    household_check_deadline_seconds: float = 3.0


class RateLimitSettings(BaseModel):
    """Token buckets; 0 disables a limit."""

    per_member_per_second: float = 200.0
    per_member_burst: float = 400.0
    per_purpose_per_second: float = 100.0
    per_purpose_burst: float = 200.0


class ConsentSettings(BaseModel):
    #: Services that refuse to run without a valid, in-scope authorisation (核查授权书).
    required_for: list[str] = Field(default_factory=lambda: ["hub.v1.Verification/HouseholdCheck"])


class DirectorySettings(BaseModel):
    #: How long member / key / grant lookups are cached in the hub process.
    cache_seconds: float = 2.0


class AuditSettings(BaseModel):
    """The audit log (issue 7). Defaults follow the law in DOMAIN.md; entries are never deleted by the hub."""

    #: Message bodies are purged after this many days; their hashes stay, so the chain still verifies.
    body_retention_days: int = Field(default=180, ge=1)
    #: Entries are kept at least this long: PIPL Arts. 55-56 (processing records ≥ 3 years) and
    #: Cybersecurity Law Art. 21 (network logs ≥ 6 months).
    entry_retention_days: int = Field(default=1096, ge=1096)
    #: Names the log in every signed checkpoint; one line, not starting with "DSSEv1".
    origin: str = "assistance-hub/audit"
    #: When the scheduler signs a checkpoint, and when it purges expired bodies (cron strings).
    checkpoint_cron: str = "*/10 * * * *"
    purge_cron: str = "40 3 * * *"


class FeedSettings(BaseModel):
    """Departmental data feeds (issue 4)."""

    #: A feed whose current version was completed longer ago than this is flagged stale.
    max_age_days: float = Field(default=35.0, gt=0)
    #: Per-department exceptions, e.g. ``{"public-security" = 7}`` for weekly death data.
    max_age_days_by_department: dict[str, float] = Field(default_factory=dict)
    #: Most rows one chunk may carry.
    max_chunk_records: int = Field(default=10_000, ge=1)
    #: Most rejected rows a receipt lists (all are stored).
    receipt_rejection_limit: int = Field(default=1_000, ge=0)
    #: The hub's rejection policy per feed, by record kind or department (kind wins), e.g.
    #: ``{"public-security" = "reject_version"}``: a version declaring another policy is refused. Feeds not named
    #: here take the policy their supplier declares.
    policy: dict[str, Literal["reject_version", "accept_valid"]] = Field(default_factory=dict)
    #: Pull configurations (TOML, see ``hub.feeds._pull``) that a scheduled run hands to ``hub.feeds.pull_once``.
    pull_configs: list[Path] = Field(default_factory=list)


#: Default schedules (cron, in ``jobs.timezone``); ``audit_checkpoint`` and ``retention_purge`` default to the
#: ``[audit]`` crons. Five fields (minute hour day month weekday, 0 = Sunday) or six with seconds first.
DEFAULT_JOB_CRON: dict[str, str] = {
    "annual_cross_check": "0 2 1 3 *",
    "periodic_recheck": "0 5 * * *",
    "monthly_comparison": "0 3 1 * *",
    "statistics": "0 6 14,28 * *",
    "feed_staleness": "0 7 * * *",
    "feed_pull": "0 1 * * *",
}


class JobSettings(BaseModel):
    """Scheduled runs (issue 6): when each job runs, how runs are leased across replicas, cross-check pacing."""

    #: Run the scheduler in the hub process (every replica may: each due run still executes once).
    enabled: bool = True
    timezone: str = "Asia/Shanghai"
    #: Job name → cron, merged over ``DEFAULT_JOB_CRON``; an empty string leaves a job to run on demand only.
    cron: dict[str, str] = Field(default_factory=dict)
    #: A hub that was down at a due time runs the missed job once on return if it is at most this late.
    misfire_grace_seconds: float = Field(default=6 * 3600.0, gt=0)
    #: A run whose holder has not renewed its lease for this long is taken over by another process.
    lease_seconds: float = Field(default=60.0, gt=0)
    heartbeat_seconds: float = Field(default=10.0, gt=0)
    #: How often a hub looks for runs whose holder died.
    takeover_check_seconds: float = Field(default=15.0, gt=0)
    #: A run resumed this many times without finishing is abandoned (a job that kills its process each time).
    max_attempts: int = Field(default=3, ge=1)
    #: Job name → ``module:callable``: replaces a built-in job's body, or adds a job.
    bodies: dict[str, str] = Field(default_factory=dict)
    #: Cross-checks: seconds one member gets to answer, questions in flight at once, items per checkpoint.
    question_timeout_seconds: float = Field(default=10.0, gt=0)
    concurrency: int = Field(default=4, ge=1)
    batch_size: int = Field(default=50, ge=1)
    #: Periodic re-check (定期复查): months between checks per enrollee category, and each programme's category.
    recheck_months: dict[str, int] = Field(
        default_factory=lambda: {"unable_to_work": 12, "ill_or_disabled": 6, "able_to_work": 3}
    )
    category_by_programme: dict[str, str] = Field(default_factory=lambda: {"tekun": "unable_to_work"})
    default_category: str = "able_to_work"
    #: Per-person records of finished runs are dropped after this many days (PIPL Arts. 55-56: ≥ 3 years).
    item_retention_days: int = Field(default=1096, ge=1)

    def schedule(self, audit: AuditSettings) -> dict[str, str]:
        """Every job's effective cron string (empty: on demand only)."""
        defaults = {**DEFAULT_JOB_CRON, "audit_checkpoint": audit.checkpoint_cron, "retention_purge": audit.purge_cron}
        return {**defaults, **self.cron}


class FindingSettings(BaseModel):
    """Comparisons and findings (issue 5): where the rules are, how long a township has for a finding."""

    #: Folder of rule files (``default.toml`` and ``<region prefix>.toml``), relative to ``data_dir``; unset:
    #: the rules packaged with the hub (``hub/findings/rules``).
    rules_dir: Path | None = None
    #: Days a township has to resolve a finding, unless its rule says otherwise.
    due_days: int = Field(default=10, ge=1)
    #: Report days in the statistics report's trend (two a month).
    trend_periods: int = Field(default=12, ge=1, le=48)
    #: Where the scheduled statistics job writes its CSV, XLSX and PNG, relative to ``data_dir``.
    reports_dir: Path = Path("reports")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="HUB_", env_nested_delimiter="__", extra="ignore")

    toml_file: ClassVar[Path | None] = None

    data_dir: Path = Path("hub-data")
    database_url: str = ""
    member_id: str = HUB_MEMBER_ID
    server: ServerSettings = Field(default_factory=ServerSettings)
    pki: PkiSettings = Field(default_factory=PkiSettings)
    policy: PolicySettings = Field(default_factory=PolicySettings)
    routing: RoutingSettings = Field(default_factory=RoutingSettings)
    directory: DirectorySettings = Field(default_factory=DirectorySettings)
    audit: AuditSettings = Field(default_factory=AuditSettings)
    consent: ConsentSettings = Field(default_factory=ConsentSettings)
    rate_limits: RateLimitSettings = Field(default_factory=RateLimitSettings)
    feeds: FeedSettings = Field(default_factory=FeedSettings)
    jobs: JobSettings = Field(default_factory=JobSettings)
    findings: FindingSettings = Field(default_factory=FindingSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if cls.toml_file is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=cls.toml_file))
        return tuple(sources)

    @property
    def pki_dir(self) -> Path:
        return self.pki.dir if self.pki.dir.is_absolute() else self.data_dir / self.pki.dir

    @property
    def resolved_database_url(self) -> str:
        from hub.store import sqlite_url

        return self.database_url or sqlite_url(self.data_dir)


def load_settings(path: Path | None = None, **overrides: Any) -> Settings:
    """Load settings from ``path`` (or ``$HUB_CONFIG``), the environment and explicit overrides."""
    path = path or (Path(os.environ["HUB_CONFIG"]) if os.environ.get("HUB_CONFIG") else None)
    if path is not None and not path.is_file():
        raise FileNotFoundError(f"configuration file {path} does not exist")

    class _Settings(Settings):
        toml_file = path

    return _Settings(**overrides)
