"""RS256 tokens of an identity provider, verified against the JWKS a real local HTTP server
serves (discovery document + keys), beside the HS256 development tokens."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from looptrace_shared.auth import OidcVerifier, Unauthenticated, mint_token, verify_token
from looptrace_shared.settings import DEV_JWT_SECRET


def _key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Provider:
    """A tiny identity provider: /.well-known/openid-configuration and /jwks."""

    def __init__(self) -> None:
        self.key = _key()
        self.kid = "k1"
        self.jwks_hits = 0
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                if self.path == "/.well-known/openid-configuration":
                    body: dict[str, Any] = {
                        "issuer": provider.issuer,
                        "jwks_uri": f"{provider.issuer}/jwks",
                    }
                elif self.path == "/jwks":
                    provider.jwks_hits += 1
                    jwk = json.loads(RSAAlgorithm.to_jwk(provider.key.public_key()))
                    body = {"keys": [{**jwk, "kid": provider.kid, "use": "sig", "alg": "RS256"}]}
                else:
                    self.send_response(404)
                    self.end_headers()
                    return
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def token(
        self, key: rsa.RSAPrivateKey | None = None, kid: str | None = None, **claims: Any
    ) -> str:
        now = datetime.now(UTC)
        body = {"iss": self.issuer, "sub": "buyer-7", "role": "buyer", "iat": now,
                "exp": now + timedelta(hours=1), **claims}  # fmt: skip
        return jwt.encode(
            {k: v for k, v in body.items() if v is not None},
            key or self.key,
            algorithm="RS256",
            headers={"kid": kid or self.kid},
        )


@pytest.fixture
def idp() -> Iterator[Provider]:
    p = Provider()
    yield p
    p.server.shutdown()


def settings(issuer: str, audience: str = "") -> Any:
    return SimpleNamespace(
        jwt_secret=DEV_JWT_SECRET, jwt_issuer="looptrace", jwt_max_lifetime_s=86_400,
        oidc_issuer_url=issuer, oidc_audience=audience, oidc_role_claim="role",
    )  # fmt: skip


def test_a_token_of_the_provider_is_accepted(idp: Provider) -> None:
    p = verify_token(settings(idp.issuer), idp.token())
    assert (p.role, p.subject) == ("buyer", "buyer-7")
    verify_token(settings(idp.issuer), idp.token(sub="buyer-8"))
    assert idp.jwks_hits == 1  # the keys are cached


def test_a_token_signed_by_another_key_is_refused(idp: Provider) -> None:
    with pytest.raises(Unauthenticated, match="not valid|not the provider"):
        verify_token(settings(idp.issuer), idp.token(key=_key()))
    with pytest.raises(Unauthenticated, match="not the provider"):
        verify_token(settings(idp.issuer), idp.token(key=_key(), kid="other"))


def test_issuer_expiry_and_audience_are_checked(idp: Provider) -> None:
    with pytest.raises(Unauthenticated, match="issuer"):
        verify_token(settings(idp.issuer), idp.token(iss="https://evil.example"))
    past = datetime.now(UTC) - timedelta(hours=2)
    with pytest.raises(Unauthenticated, match="expired"):
        verify_token(settings(idp.issuer), idp.token(iat=past, exp=past + timedelta(hours=1)))
    with pytest.raises(Unauthenticated, match="audience|aud"):
        verify_token(settings(idp.issuer, audience="looptrace-api"), idp.token())
    ok = verify_token(settings(idp.issuer, "looptrace-api"), idp.token(aud="looptrace-api"))
    assert ok.subject == "buyer-7"
    with pytest.raises(Unauthenticated, match="role"):
        verify_token(settings(idp.issuer), idp.token(role="root"))


def test_the_key_rotates(idp: Provider) -> None:
    verifier = OidcVerifier(idp.issuer, refetch_cooldown_s=0)
    verifier.decode(idp.token())
    idp.key, idp.kid = _key(), "k2"  # the provider rotates: an unknown kid refetches the keys
    assert verifier.decode(idp.token()).subject == "buyer-7"
    assert idp.jwks_hits == 2


def test_hs256_development_tokens_still_work_and_rs256_needs_an_issuer(idp: Provider) -> None:
    dev = mint_token(DEV_JWT_SECRET, "supplier", "sup-1")
    assert verify_token(settings(idp.issuer), dev).subject == "sup-1"
    assert verify_token(settings(""), dev).role == "supplier"
    with pytest.raises(Unauthenticated):  # no provider configured: RS256 is not accepted
        verify_token(settings(""), idp.token())


def test_an_unreachable_provider_is_a_401_not_a_500() -> None:
    with pytest.raises(Unauthenticated, match="discovery"):
        verify_token(settings("http://127.0.0.1:9"), Provider().token())
