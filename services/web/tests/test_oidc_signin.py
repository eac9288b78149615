"""The console's sign-in through an identity provider (authorization code + PKCE) against a
real local provider: discovery, JWKS, authorize, token endpoints on a real HTTP server."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi.testclient import TestClient
from jwt.algorithms import RSAAlgorithm

from looptrace_shared.auth import verify_token
from looptrace_web.app import create_app
from looptrace_web.config import WebSettings

CONSOLE = "https://console.test"


class Provider:
    def __init__(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.codes: dict[str, dict[str, str]] = {}
        self.bad_nonce = False
        provider = self

        class Handler(BaseHTTPRequestHandler):
            def _json(self, status: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802
                url = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/.well-known/openid-configuration":
                    self._json(200, {"issuer": provider.issuer, "jwks_uri": f"{provider.issuer}/jwks",
                                     "authorization_endpoint": f"{provider.issuer}/authorize",
                                     "token_endpoint": f"{provider.issuer}/token"})  # fmt: skip
                elif url.path == "/jwks":
                    jwk = json.loads(RSAAlgorithm.to_jwk(provider.key.public_key()))
                    self._json(200, {"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]})
                elif url.path == "/authorize":  # the user consents at once
                    code = secrets.token_urlsafe(8)
                    provider.codes[code] = q
                    self.send_response(302)
                    target = (
                        q["redirect_uri"] + "?" + urlencode({"code": code, "state": q["state"]})
                    )
                    self.send_header("Location", target)
                    self.end_headers()
                else:
                    self._json(404, {})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers["Content-Length"])
                form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
                asked = provider.codes.pop(form.get("code", ""), None)
                verifier = form.get("code_verifier", "")
                challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
                if asked is None or challenge.rstrip(b"=").decode() != asked["code_challenge"] \
                        or form.get("redirect_uri") != asked["redirect_uri"]:  # fmt: skip
                    self._json(400, {"error": "invalid_grant"})
                    return
                now = datetime.now(UTC)
                base = {"iss": provider.issuer, "sub": "buyer-idp", "iat": now,
                        "exp": now + timedelta(hours=1)}  # fmt: skip
                nonce = "wrong" if provider.bad_nonce else asked["nonce"]
                self._json(200, {
                    "access_token": provider.sign({**base, "role": "buyer", "aud": "looptrace"}),
                    "id_token": provider.sign({**base, "aud": asked["client_id"], "nonce": nonce}),
                    "token_type": "Bearer",
                })  # fmt: skip

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.issuer = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": "k1"})


@pytest.fixture
def idp() -> Iterator[Provider]:
    p = Provider()
    yield p
    p.server.shutdown()


@pytest.fixture
def settings(idp: Provider) -> WebSettings:
    return WebSettings(public_base_url=CONSOLE, oidc_issuer_url=idp.issuer,
                       oidc_client_id="console", oidc_audience="looptrace")  # fmt: skip


def through_provider(c: TestClient, next_: str = "/orders/o-1") -> httpx.URL:
    r = c.get(f"/signin/oidc?next={next_}", follow_redirects=False)
    assert r.status_code == 303, r.text
    back = httpx.get(r.headers["location"], follow_redirects=False)
    assert back.status_code == 302
    return httpx.URL(back.headers["location"])


def test_sign_in_through_the_provider_keeps_its_token_as_the_session(
    settings: WebSettings,
) -> None:
    with TestClient(create_app(settings), base_url=CONSOLE) as c:
        assert "/signin/oidc" in c.get("/signin").text
        callback = through_provider(c)
        assert str(callback).startswith(f"{CONSOLE}/signin/callback?")
        r = c.get(f"{callback.path}?{callback.query.decode()}", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/orders/o-1"
        session = c.cookies.get("lt_session")
        assert session and "HttpOnly" in r.headers["set-cookie"]
        who = verify_token(settings, session)  # what every service will check too
        assert (who.role, who.subject) == ("buyer", "buyer-idp")


def test_a_callback_with_another_state_or_from_another_browser_is_refused(
    settings: WebSettings,
) -> None:
    app = create_app(settings)
    with TestClient(app, base_url=CONSOLE) as c:
        callback = through_provider(c)
        code = callback.params["code"]
        r = c.get(f"/signin/callback?code={code}&state=forged")
        assert r.status_code == 400 and "state" in r.text
        assert "lt_session" not in c.cookies
    with TestClient(app, base_url=CONSOLE) as stranger:
        r = stranger.get(f"/signin/callback?code={code}&state={callback.params['state']}")
        assert r.status_code == 400 and "not started in this browser" in r.text


def test_an_id_token_of_another_sign_in_is_refused(settings: WebSettings, idp: Provider) -> None:
    idp.bad_nonce = True
    with TestClient(create_app(settings), base_url=CONSOLE) as c:
        callback = through_provider(c)
        r = c.get(f"{callback.path}?{callback.query.decode()}")
        assert r.status_code == 400 and "nonce" in r.text
        assert "lt_session" not in c.cookies


def test_the_provider_refusing_is_said_not_a_500(settings: WebSettings) -> None:
    with TestClient(create_app(settings), base_url=CONSOLE) as c:
        assert c.get("/signin/callback?error=access_denied").status_code == 400
    off = WebSettings(public_base_url=CONSOLE)
    with TestClient(create_app(off), base_url=CONSOLE) as c:
        assert c.get("/signin/oidc").status_code == 404
