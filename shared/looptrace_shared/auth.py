"""Bearer JWT: a role (buyer / supplier / admin / inspector) and a subject id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Annotated

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from looptrace_shared.errors import Forbidden, RuleViolation

ROLES = ("buyer", "supplier", "admin", "inspector")


class Unauthenticated(RuleViolation):
    rule = "unauthenticated"
    status = 401
    title = "Authentication required"


@dataclass(frozen=True)
class Principal:
    role: str
    subject: str

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


def decode_token(secret: str, token: str, issuer: str = "looptrace") -> Principal:
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], issuer=issuer, options={"require": ["sub", "exp"]}
        )
    except jwt.ExpiredSignatureError:
        raise Unauthenticated("the bearer token has expired; mint a new one") from None
    except jwt.PyJWTError as err:
        raise Unauthenticated(f"the bearer token is not valid: {err}") from None
    role = claims.get("role")
    if role not in ROLES:
        raise Unauthenticated(f"token role {role!r} is not one of {', '.join(ROLES)}")
    return Principal(role=role, subject=str(claims["sub"]))


_bearer = HTTPBearer(auto_error=False)


def current_principal(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Principal:
    if creds is None:
        raise Unauthenticated(
            "send 'Authorization: Bearer <token>' (mint one with `looptrace token`)"
        )
    settings = request.app.state.runtime.settings
    return decode_token(settings.jwt_secret, creds.credentials, settings.jwt_issuer)


CurrentUser = Annotated[Principal, Depends(current_principal)]
