"""Settings shared by every service (pydantic-settings; environment variables).

Each service subclasses :class:`ServiceSettings` with its own fields and defaults.
Every variable is documented in the README's configuration table.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_JWT_SECRET = "looptrace-dev-secret-change-me-0123456789"


class Environment(StrEnum):
    DEV = "dev"
    TEST = "test"
    PROD = "prod"


class ServiceSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=None, extra="ignore", case_sensitive=False)

    service_name: str = "looptrace"
    environment: Environment = Field(default=Environment.DEV, description="dev | test | prod")

    database_url: str = Field(
        default="postgresql+asyncpg://postgres@127.0.0.1:5432/looptrace",
        description="SQLAlchemy URL (asyncpg driver)",
    )
    db_pool_size: int = 10

    kafka_bootstrap_servers: str = "127.0.0.1:9092"
    kafka_partitions: int = Field(default=6, ge=1)
    kafka_replication_factor: int = Field(default=1, ge=1)
    kafka_idempotence: bool = Field(
        default=False, description="idempotent producer: on for Apache Kafka, off for tansu"
    )
    kafka_session_timeout_ms: int = 10_000
    kafka_heartbeat_interval_ms: int = 3_000
    kafka_max_batch: int = Field(default=1000, ge=1)
    kafka_batch_timeout_ms: int = 100
    kafka_fetch_max_wait_ms: int = Field(
        default=50,
        ge=0,
        description="how long the broker may hold a consumer's fetch while it has nothing new "
        "(aiokafka's fetch_max_wait_ms; its default 500 let tansu hold a fetch with data waiting "
        "for up to half a second at every hop: bench/pipeline_bench.py)",
    )
    kafka_auto_offset_reset: str = "earliest"
    kafka_batch_lanes: int = Field(
        default=1,
        ge=1,
        description="a consumed batch is split by subject (order) into up to this many parts, "
        "each in its own concurrent transaction: one runs in Python while another waits on "
        "PostgreSQL (production: 2)",
    )

    http_host: str = "127.0.0.1"
    http_port: int = 8000
    public_base_url: str = "http://127.0.0.1:8000"

    jwt_secret: str = Field(default=DEV_JWT_SECRET, min_length=32)
    jwt_issuer: str = "looptrace"
    jwt_max_lifetime_s: int = Field(
        default=86_400,
        ge=60,
        description="tokens whose exp lies further than this after their iat (or now) are refused",
    )
    oidc_issuer_url: str = Field(
        default="",
        description="the identity provider's issuer URL: RS256 tokens it signs are verified "
        "against the keys of its discovery document's jwks_uri (empty: HS256 tokens only)",
    )
    oidc_audience: str = Field(
        default="", description="the aud RS256 tokens must carry (empty: any)"
    )
    oidc_role_claim: str = Field(default="role", description="the claim naming the user's role")
    http_max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="largest request body (413 beyond)"
    )
    http_max_upload_bytes: int = Field(
        default=11_534_336,
        ge=1024,
        description="largest multipart/form-data body (photo uploads; 413 beyond)",
    )

    parking_timeout_s: float = Field(
        default=600.0, description="how long a message may wait for its order before the DLQ"
    )
    parking_retry_s: float = 1.0
    retry_max_attempts: int = Field(default=5, ge=1)
    retry_backoff_base_s: float = 0.2
    retry_backoff_cap_s: float = 10.0
    outbox_poll_s: float = 0.2
    malloc_trim_s: float = Field(
        default=30.0,
        ge=0,
        description="how often freed memory is handed back to the system (glibc malloc_trim); "
        "0 = never",
    )
    shutdown_timeout_s: float = Field(
        default=30.0,
        gt=0,
        description="on SIGTERM/SIGINT: how long the batch in flight, the periodic jobs and the "
        "outbox relay may take to finish before the process exits anyway (a second signal "
        "exits at once)",
    )
    log_level: str = "INFO"
    retention_years: int = Field(
        default=2, ge=0, le=100, description="completed orders older than this go to cold storage"
    )
    retention_batch: int = Field(
        default=500, ge=1, le=10_000, description="orders moved per transaction (1 = per order)"
    )
    retention_interval_s: float = Field(
        default=86_400,
        ge=0,
        description="how often a service with a retention job (orders, production, quality) "
        "runs it; 0 = never",
    )

    def model_post_init(self, __context: object) -> None:
        dev_or_test = self.environment in (Environment.DEV, Environment.TEST)
        if not dev_or_test and self.jwt_secret == DEV_JWT_SECRET:
            raise ValueError(
                f"JWT_SECRET must be set to a private value when ENVIRONMENT={self.environment}"
                " (the built-in secret is for dev and test only)"
            )

    @property
    def http_address(self) -> str:
        return f"http://{self.http_host}:{self.http_port}"
