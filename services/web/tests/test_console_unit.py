"""The console's own rules, without the services behind it: sign-in, session cookie, CSRF,
redirects, charts."""

from __future__ import annotations

import re
from collections.abc import Iterator

import jwt
import pytest
from fastapi.testclient import TestClient
from hypothesis import given, settings
from hypothesis import strategies as st

from looptrace_shared.settings import DEV_JWT_SECRET, Environment
from looptrace_web import charts
from looptrace_web.app import create_app
from looptrace_web.config import WebSettings


@pytest.fixture
def client() -> Iterator[TestClient]:
    settings = WebSettings(orders_url="http://127.0.0.1:9")  # nothing answers there
    with TestClient(create_app(settings), base_url="https://console.test") as c:
        yield c


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf" value="([0-9a-f]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(c: TestClient, role: str = "buyer", subject: str = "buyer-1") -> None:
    token = csrf_of(c.get("/signin").text)
    r = c.post("/signin", data={"role": role, "subject": subject, "csrf": token},
               follow_redirects=False)  # fmt: skip
    assert r.status_code == 303, r.text


def test_the_sign_in_page_sets_a_strict_http_only_csrf_cookie(client: TestClient) -> None:
    r = client.get("/signin")
    assert r.status_code == 200 and 'label for="role"' in r.text and 'label for="subject"' in r.text
    cookie = r.headers["set-cookie"].lower()
    assert "lt_csrf=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert "secure" in cookie


def test_sign_in_mints_a_token_in_a_secure_http_only_cookie(client: TestClient) -> None:
    token = csrf_of(client.get("/signin").text)
    r = client.post("/signin", data={"role": "supplier", "subject": "sup-3", "csrf": token,
                                     "next": "/orders/o-1"}, follow_redirects=False)  # fmt: skip
    assert r.status_code == 303 and r.headers["location"] == "/orders/o-1"
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "samesite=lax" in cookie.lower()
    session = re.search(r"lt_session=([^;]+)", cookie).group(1)  # type: ignore[union-attr]
    claims = jwt.decode(session, DEV_JWT_SECRET, algorithms=["HS256"], issuer="looptrace")
    assert (claims["role"], claims["sub"]) == ("supplier", "sup-3")


@pytest.mark.parametrize("sent", [None, "", "0" * 64, "not-hex"])
def test_a_form_post_without_the_right_csrf_token_is_refused(
    client: TestClient, sent: str | None
) -> None:
    client.get("/signin")  # the browser has its CSRF cookie, the attacker's form not its token
    data = {"role": "admin", "subject": "evil"} | ({"csrf": sent} if sent is not None else {})
    r = client.post("/signin", data=data, follow_redirects=False)
    assert r.status_code == 403 and "CSRF" in r.text
    assert "lt_session" not in r.headers.get("set-cookie", "")


def test_a_token_from_another_browser_does_not_fit_this_one(client: TestClient) -> None:
    token = csrf_of(client.get("/signin").text)
    with TestClient(client.app, base_url="https://console.test") as other:
        other.get("/signin")
        r = other.post("/signin", data={"role": "buyer", "subject": "b", "csrf": token},
                       follow_redirects=False)  # fmt: skip
    assert r.status_code == 403


def test_fetch_posts_need_the_csrf_header_too(client: TestClient) -> None:
    sign_in(client, "supplier", "sup-1")
    r = client.post("/orders/o-1/stages/2/progress", json={"percentage": 50},
                    headers={"Accept": "application/json"})  # fmt: skip
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    sign_out = client.post("/signout", data={}, follow_redirects=False)
    assert sign_out.status_code == 403


def test_pages_need_a_session_and_come_back_after_sign_in(client: TestClient) -> None:
    r = client.get("/orders/o-9?x=1", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/signin?next=/orders/o-9%3Fx%3D1"
    live = client.get("/orders/o-9/live")
    assert live.status_code == 401


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example", "/\\evil", "/\t/evil.example", "/\n/x"]
)
def test_sign_in_never_sends_the_user_to_another_site(client: TestClient, target: str) -> None:
    token = csrf_of(client.get("/signin").text)
    r = client.post("/signin", data={"role": "buyer", "subject": "b-1", "csrf": token,
                                     "next": target}, follow_redirects=False)  # fmt: skip
    assert r.headers["location"] == "/orders"


@pytest.mark.parametrize("role, subject", [("root", "x"), ("buyer", ""), ("buyer", "a/b")])
def test_a_bad_role_or_subject_is_a_422_that_says_why(
    client: TestClient, role: str, subject: str
) -> None:
    token = csrf_of(client.get("/signin").text)
    r = client.post("/signin", data={"role": role, "subject": subject, "csrf": token})
    assert r.status_code == 422 and 'role="alert"' in r.text


@pytest.mark.parametrize("supplier", ["bad id\x00", "a/b", "x" * 65])
def test_an_admin_naming_a_bad_supplier_id_gets_a_422_not_a_500(
    client: TestClient, supplier: str
) -> None:
    sign_in(client, "admin", "ops-1")
    r = client.get("/supplier", params={"supplier": supplier})
    assert r.status_code == 422 and "is not a valid id" in r.text


def test_an_unreachable_service_is_a_502_page_not_a_500(client: TestClient) -> None:
    sign_in(client)
    r = client.get("/orders/o-1")
    assert r.status_code == 502 and "did not answer" in r.text


def test_development_sign_in_is_refused_in_production() -> None:
    with pytest.raises(ValueError, match="CONSOLE_DEV_SIGNIN"):
        WebSettings(environment=Environment.PROD, jwt_secret="x" * 40)
    WebSettings(environment=Environment.PROD, jwt_secret="x" * 40, console_dev_signin=False)


def test_the_stage_chart_draws_planned_forecast_and_actual() -> None:
    stages = [
        {"number": 1, "name": "Cutting", "baseline_start": "2027-01-04", "baseline_end": "2027-01-08",
         "forecast_start": "2027-01-04", "forecast_end": "2027-01-11",
         "completed_at": "2027-01-11T10:00:00Z"},
        {"number": 2, "name": "Sewing <b>", "baseline_start": "2027-01-11", "baseline_end": "2027-01-20",
         "forecast_start": "2027-01-12", "forecast_end": "2027-01-22", "completed_at": None},
    ]  # fmt: skip
    svg = charts.stage_timeline(stages, "2027-01-25")
    assert svg.startswith("<svg") and svg.count('class="planned"') == 2
    assert svg.count('class="forecast"') == 2 and svg.count('class="actual"') == 1
    assert 'class="target"' in svg and "&lt;b&gt;" in svg and "<b>" not in svg
    assert charts.stage_timeline([], None) == ""


def test_the_demo_ends_with_a_console_page_and_a_sign_in_hint() -> None:
    from looptrace_shared.demo import console_hint

    hint = console_hint("http://127.0.0.1:8100", "o-1", "buyer-0")
    assert "http://127.0.0.1:8100/orders/o-1" in hint and "buyer-0" in hint


def test_pages_forbid_framing_inline_script_and_caching(client: TestClient) -> None:
    r = client.get("/signin")
    csp = r.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    assert "<script>" not in r.text  # the one script is a file (CSP allows no inline code)


@pytest.mark.parametrize(
    "url, shown",
    [("https://x.example/a.pdf", "https://x.example/a.pdf"), ("javascript:alert(1)", "#"),
     ("JaVaScRiPt:alert(1)", "#"), ("data:text/html,x", "#"), (None, "#")],
)  # fmt: skip
def test_only_web_links_are_rendered(url: str | None, shown: str) -> None:
    from looptrace_web.pages import link as _link

    assert _link(url) == shown


@given(st.text(max_size=80))
def test_after_sign_in_the_console_never_leaves_its_own_site(target: str) -> None:
    from urllib.parse import urljoin

    from looptrace_web.signin import safe_next as _safe_next

    kept = _safe_next(target)
    browser_sees = "".join(ch for ch in kept if ch not in "\t\n\r")  # what browsers drop
    where = urljoin("https://console.test/signin", browser_sees)
    assert where.startswith("https://console.test/") and not kept.startswith("//")


@given(st.text(max_size=200))
def test_only_http_links_survive(url: str) -> None:
    from looptrace_web.pages import link as _link

    shown = _link(url)
    assert shown == "#" or shown.lower().startswith(("http://", "https://"))


@settings(max_examples=30, deadline=None)
@given(st.text(alphabet="0123456789abcdef", min_size=0, max_size=64))
def test_no_guessed_csrf_token_is_accepted(guess: str) -> None:
    app = create_app(WebSettings())
    with TestClient(app, base_url="https://console.test") as c:
        real = csrf_of(c.get("/signin").text)
        if guess == real:
            return
        r = c.post("/signin", data={"role": "admin", "subject": "x", "csrf": guess},
                   follow_redirects=False)  # fmt: skip
        assert r.status_code == 403
