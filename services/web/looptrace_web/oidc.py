"""Sign-in through the identity provider: the OIDC authorization-code flow with PKCE.

``/signin/oidc`` sends the browser to the provider's authorization endpoint with a random
state, nonce and PKCE verifier kept in a short-lived signed cookie; ``/signin/callback`` checks
the state, exchanges the code at the token endpoint, checks the ID token (signature from the
provider's JWKS, issuer, audience = our client id, nonce) and keeps the access token — an RS256
token the five services verify themselves (``OIDC_ISSUER_URL``) — as the session."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from typing import Any
from urllib.parse import urlencode

import httpx
import jwt

from looptrace_shared.auth import Unauthenticated, oidc_verifier
from looptrace_web.config import WebSettings

FLOW_COOKIE = "lt_oidc"
FLOW_TTL_S = 600


class SignInFailed(Exception):
    """The provider's answer did not check out: said to the user, never a 500."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _sign(settings: WebSettings, payload: dict[str, Any]) -> str:
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    mac = hmac.new(("oidc:" + settings.jwt_secret).encode(), body.encode(), hashlib.sha256)
    return f"{body}.{mac.hexdigest()}"


def _unsign(settings: WebSettings, value: str | None) -> dict[str, Any]:
    if not value or "." not in value:
        raise SignInFailed("the sign-in was not started in this browser (or took too long)")
    body, mac = value.rsplit(".", 1)
    want = hmac.new(("oidc:" + settings.jwt_secret).encode(), body.encode(), hashlib.sha256)
    if not hmac.compare_digest(want.hexdigest(), mac):
        raise SignInFailed("the sign-in state was tampered with; start again")
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    if payload.get("exp", 0) < time.time():
        raise SignInFailed("the sign-in took too long; start again")
    return payload


async def discovery(http: httpx.AsyncClient, settings: WebSettings) -> dict[str, Any]:
    url = settings.oidc_issuer_url.rstrip("/") + "/.well-known/openid-configuration"
    try:
        r = await http.get(url, timeout=5)
        r.raise_for_status()
        doc: dict[str, Any] = r.json()
    except (httpx.HTTPError, ValueError) as err:
        raise SignInFailed(f"the identity provider ({url}) did not answer: {err}") from None
    return doc


def redirect_uri(settings: WebSettings) -> str:
    return settings.public_base_url.rstrip("/") + "/signin/callback"


async def start(http: httpx.AsyncClient, settings: WebSettings, next_: str) -> tuple[str, str]:
    """The provider's authorization URL, and the signed flow cookie to set."""
    doc = await discovery(http, settings)
    state, nonce, verifier = (secrets.token_urlsafe(24) for _ in range(3))
    challenge = _b64(hashlib.sha256(verifier.encode()).digest())
    query = urlencode({
        "response_type": "code", "client_id": settings.oidc_client_id,
        "redirect_uri": redirect_uri(settings), "scope": settings.oidc_scopes, "state": state,
        "nonce": nonce, "code_challenge": challenge, "code_challenge_method": "S256",
    })  # fmt: skip
    flow = {"state": state, "nonce": nonce, "verifier": verifier, "next": next_,
            "exp": time.time() + FLOW_TTL_S}  # fmt: skip
    return f"{doc['authorization_endpoint']}?{query}", _sign(settings, flow)


async def finish(
    http: httpx.AsyncClient, settings: WebSettings, cookie: str | None, code: str, state: str
) -> tuple[str, str]:
    """The access token to keep as the session, and where to go next."""
    flow = _unsign(settings, cookie)
    if not hmac.compare_digest(str(flow["state"]), state):
        raise SignInFailed("the provider answered a different sign-in (state); start again")
    doc = await discovery(http, settings)
    form = {
        "grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri(settings),
        "client_id": settings.oidc_client_id, "code_verifier": flow["verifier"],
    }  # fmt: skip
    if settings.oidc_client_secret:
        form["client_secret"] = settings.oidc_client_secret
    try:
        r = await http.post(doc["token_endpoint"], data=form, timeout=10)
        tokens = r.json()
    except (httpx.HTTPError, ValueError) as err:
        raise SignInFailed(f"the provider's token endpoint did not answer: {err}") from None
    if r.status_code != 200 or "access_token" not in tokens:
        why = tokens.get("error_description") or tokens.get("error") or r.status_code
        raise SignInFailed(f"the provider refused the sign-in: {why}")
    if "id_token" in tokens:
        _check_id_token(settings, tokens["id_token"], str(flow["nonce"]))
    return str(tokens["access_token"]), str(flow["next"])


def _check_id_token(settings: WebSettings, id_token: str, nonce: str) -> None:
    verifier = oidc_verifier(settings.oidc_issuer_url, settings.oidc_audience,
                             settings.oidc_role_claim)  # fmt: skip
    try:
        key = verifier.jwks().get_signing_key_from_jwt(id_token)
        claims = jwt.decode(id_token, key.key, algorithms=["RS256"], issuer=verifier.issuer,
                            audience=settings.oidc_client_id)  # fmt: skip
    except (jwt.PyJWTError, Unauthenticated) as err:
        raise SignInFailed(f"the provider's ID token is not valid: {err}") from None
    if not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
        raise SignInFailed("the provider's ID token belongs to another sign-in (nonce)")
