"""The console's settings (environment variables, documented in the README)."""

from __future__ import annotations

from pydantic import Field

from looptrace_shared.settings import Environment, ServiceSettings


class WebSettings(ServiceSettings):
    service_name: str = "web"
    http_port: int = 8100
    public_base_url: str = "http://127.0.0.1:8100"

    orders_url: str = Field(default="http://127.0.0.1:8101", description="the orders service")
    production_url: str = "http://127.0.0.1:8102"
    quality_url: str = "http://127.0.0.1:8103"
    notifications_url: str = "http://127.0.0.1:8104"
    predictions_url: str = "http://127.0.0.1:8105"

    console_dev_signin: bool = Field(
        default=True,
        description="the development sign-in page (pick a role and subject, get an HS256 "
        "token); refused outside dev and test",
    )
    oidc_client_id: str = Field(
        default="", description="the console's client id at the identity provider (OIDC sign-in)"
    )
    oidc_client_secret: str = Field(default="", description="its client secret (environment only)")
    oidc_scopes: str = "openid profile email"
    session_cookie_secure: bool = Field(
        default=True, description="mark the session cookie Secure (browsers keep it on localhost)"
    )
    session_hours: float = Field(default=8.0, gt=0, le=24, description="a session's lifetime")
    live_poll_s: float = Field(
        default=0.5, gt=0, description="how often an open order page's live stream looks for news"
    )

    def model_post_init(self, __context: object) -> None:
        super().model_post_init(__context)
        if self.console_dev_signin and self.environment == Environment.PROD:
            raise ValueError(
                "CONSOLE_DEV_SIGNIN must be false when ENVIRONMENT=prod "
                "(sign in through the identity provider: OIDC_ISSUER_URL)"
            )

    @property
    def oidc_enabled(self) -> bool:
        return bool(self.oidc_issuer_url and self.oidc_client_id)

    def service_url(self, service: str) -> str:
        return str(getattr(self, f"{service}_url")).rstrip("/")
