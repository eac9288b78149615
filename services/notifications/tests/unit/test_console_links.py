"""With a console (CONSOLE_BASE_URL) the links in e-mails open its order page."""

from __future__ import annotations

from looptrace_notifications.config import NotificationsSettings
from looptrace_notifications.rendering import order_link, render
from looptrace_notifications.services import Recipient, mail_context


def test_without_a_console_links_open_production_timeline() -> None:
    assert order_link("http://p.example/", "", "o-1") == "http://p.example/v1/orders/o-1/timeline"


def test_with_a_console_links_open_its_order_page_quoted() -> None:
    assert order_link("http://p", "https://console.example/", "a/b c") == (
        "https://console.example/orders/a%2Fb%20c"
    )


def test_the_mails_carry_the_console_link() -> None:
    settings = NotificationsSettings(console_base_url="http://127.0.0.1:8100")
    who = Recipient(id="b-1", role="buyer", name="Ana", email="ana@x.example")
    ctx = mail_context(
        settings,
        None,
        "ord-7",
        {
            "order_number": "PO-7",
            "target_date": "2027-03-01",
            "quantity": 500,
            "product_type": "sweater",
        },
        who,
    )
    subject, text, html = render("order_confirmed", ctx)
    assert "http://127.0.0.1:8100/orders/ord-7" in text
    assert 'href="http://127.0.0.1:8100/orders/ord-7"' in html
    assert "/v1/orders/ord-7/timeline" not in text + html
