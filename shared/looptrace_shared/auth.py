"""Bearer JWT: a role (buyer / supplier / admin / inspector) and a subject id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

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


_bearer = HTTPBearer(auto_error=False)


def current_principal(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if creds is None:
        raise Unauthenticated(
            "send 'Authorization: Bearer <token>' (mint one with `looptrace token`)"
        )
    settings = request.app.state.runtime.settings
    return decode_token(
        settings.jwt_secret,
        creds.credentials,
        settings.jwt_issuer,
        getattr(settings, "jwt_max_lifetime_s", None),
    )


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
