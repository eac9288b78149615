"""Bearer JWT: a role (buyer / supplier / admin / inspector) and a subject id.

Two kinds of token are accepted: HS256 tokens signed with ``JWT_SECRET`` (development, the
``looptrace token`` command, the console's development sign-in) and, when ``OIDC_ISSUER_URL``
is set, RS256 tokens of that identity provider, verified against the keys its discovery
document's ``jwks_uri`` serves (fetched on first use, cached, refetched for an unknown ``kid``).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import httpx
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from looptrace_shared.errors import Forbidden, RuleViolation
from looptrace_shared.events.bounds import check_subject

ROLES = ("buyer", "supplier", "admin", "inspector")


class Unauthenticated(RuleViolation):
    rule = "unauthenticated"
    status = 401
    title = "Authentication required"


@dataclass(frozen=True)
class Principal:
    """Who calls: a known role and a non-empty subject (checked here, so no filter is ever
    derived from an empty one)."""

    role: str
    subject: str

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise Unauthenticated(f"token role {self.role!r} is not one of {', '.join(ROLES)}")
        try:
            check_subject(self.subject)
        except ValueError as err:
            raise Unauthenticated(f"the token's subject (sub) is not a user id: {err}") from None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def require(self, *roles: str) -> None:
        if self.role not in roles and not self.is_admin:
            raise Forbidden(
                f"role {self.role!r} may not do this; allowed roles: {', '.join(roles)}, admin"
            )


def mint_token(
    secret: str, role: str, subject: str, hours: float = 24, issuer: str = "looptrace"
) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; use one of {', '.join(ROLES)}")
    now = datetime.now(UTC)
    claims = {
        "sub": subject,
        "role": role,
        "iss": issuer,
        "iat": now,
        "exp": now + timedelta(hours=hours),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def decode_token(
    secret: str, token: str, issuer: str = "looptrace", max_lifetime_s: float | None = None
) -> Principal:
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], issuer=issuer, options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the bearer token has expired; mint a new one") from None
    except jwt.PyJWTError as err:
        raise Unauthenticated(f"the bearer token is not valid: {err}") from None
    if max_lifetime_s is not None:
        _check_lifetime(claims, max_lifetime_s)
    sub, role = claims["sub"], claims.get("role")
    if not isinstance(sub, str) or not isinstance(role, str):
        raise Unauthenticated("the token's sub and role must be strings")
    return Principal(role=role, subject=sub)


def _check_lifetime(claims: dict[str, object], max_lifetime_s: float) -> None:
    """A token may live at most ``max_lifetime_s``: from its iat, and from now."""
    exp, iat = claims["exp"], claims.get("iat")
    now = datetime.now(UTC).timestamp()
    start = iat if isinstance(iat, int | float) else now
    if not isinstance(exp, int | float) or exp - min(start, now) > max_lifetime_s + 5:
        raise Unauthenticated(
            f"the bearer token lives longer than {max_lifetime_s:g} s (JWT_MAX_LIFETIME_S); "
            "mint one with a shorter exp"
        )


class OidcVerifier:
    """RS256 tokens of one identity provider: its JWKS found through its discovery document."""

    def __init__(
        self,
        issuer: str,
        audience: str | None = None,
        role_claim: str = "role",
        refetch_cooldown_s: float = 30.0,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.refetch_cooldown_s = refetch_cooldown_s  # an unknown kid refetches at most this often
        self.audience = audience or None
        self.role_claim = role_claim
        self._jwks: jwt.PyJWKClient | None = None
        self._lock = threading.Lock()

    def jwks(self) -> jwt.PyJWKClient:
        with self._lock:
            if self._jwks is None:
                url = f"{self.issuer}/.well-known/openid-configuration"
                try:
                    r = httpx.get(url, timeout=5)
                    r.raise_for_status()
                    jwks_uri = r.json()["jwks_uri"]
                except (httpx.HTTPError, ValueError, KeyError) as err:
                    raise Unauthenticated(
                        f"the identity provider's discovery document ({url}) is unavailable: {err}"
                    ) from None
                self._jwks = jwt.PyJWKClient(
                    jwks_uri,
                    cache_keys=True,
                    lifespan=300,
                    timeout=5,
                    cooldown_duration=self.refetch_cooldown_s,
                )
            return self._jwks

    def decode(self, token: str, max_lifetime_s: float | None = None) -> Principal:
        try:
            key = self.jwks().get_signing_key_from_jwt(token)
            claims = jwt.decode(
                token,
                key.key,
                algorithms=["RS256"],
                issuer=self.issuer,
                audience=self.audience,
                options={"require": ["sub", "exp", "iss"], "verify_aud": self.audience is not None},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the bearer token has expired; sign in again") from None
        except jwt.PyJWKClientError as err:
            raise Unauthenticated(f"the bearer token's key is not the provider's: {err}") from None
        except jwt.PyJWTError as err:
            raise Unauthenticated(f"the bearer token is not valid: {err}") from None
        if max_lifetime_s is not None:
            _check_lifetime(claims, max_lifetime_s)
        sub, role = claims["sub"], claims.get(self.role_claim)
        if not isinstance(sub, str) or not isinstance(role, str):
            raise Unauthenticated(f"the token's sub and {self.role_claim} must be strings")
        return Principal(role=role, subject=sub)


_verifiers: dict[tuple[str, str | None, str], OidcVerifier] = {}


def oidc_verifier(
    issuer: str, audience: str | None = None, role_claim: str = "role"
) -> OidcVerifier:
    """One verifier (and so one key cache) per provider configuration."""
    key = (issuer.rstrip("/"), audience or None, role_claim)
    if key not in _verifiers:
        _verifiers[key] = OidcVerifier(*key)
    return _verifiers[key]


def token_algorithm(token: str) -> str:
    try:
        return str(jwt.get_unverified_header(token).get("alg", ""))
    except jwt.PyJWTError as err:
        raise Unauthenticated(f"the bearer token is not valid: {err}") from None


def verify_token(settings: Any, token: str) -> Principal:
    """An RS256 token goes to the identity provider's keys (``OIDC_ISSUER_URL``); anything else
    is checked as an HS256 development token against ``JWT_SECRET``."""
    max_lifetime = getattr(settings, "jwt_max_lifetime_s", None)
    issuer = getattr(settings, "oidc_issuer_url", "")
    if issuer and token_algorithm(token) == "RS256":
        verifier = oidc_verifier(
            issuer,
            getattr(settings, "oidc_audience", ""),
            getattr(settings, "oidc_role_claim", "role"),
        )
        return verifier.decode(token, max_lifetime)
    return decode_token(settings.jwt_secret, token, settings.jwt_issuer, max_lifetime)


_bearer = HTTPBearer(auto_error=False)


def current_principal(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if creds is None:
        raise Unauthenticated(
            "send 'Authorization: Bearer <token>' (mint one with `looptrace token`)"
        )
    return verify_token(request.app.state.runtime.settings, creds.credentials)


CurrentUser = Annotated[Principal, Depends(current_principal)]


class RoleGate:
    """A dependency that lets only ``roles`` (and admins) through; the OpenAPI document lists
    them (``x-roles``), so every route says who may call it."""

    def __init__(self, *roles: str) -> None:
        self.roles = tuple(dict.fromkeys((*roles, "admin")))

    def __call__(self, user: CurrentUser) -> Principal:
        user.require(*self.roles)
        return user


def Roles(*roles: str) -> Any:  # noqa: N802 - reads as a type: `user: Roles("buyer")`
    return Annotated[Principal, Depends(RoleGate(*roles))]


AdminUser = Roles("admin")
