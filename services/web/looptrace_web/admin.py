"""The admin's pages: assigning an order to a supplier, the dead letters of each topic (read
and replayed from the broker), and the model registry."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from looptrace_shared.messaging.dlq import read_dead_letters, replay
from looptrace_shared.topics import ALL_TOPICS, dlq
from looptrace_web import charts
from looptrace_web.backend import BackendError
from looptrace_web.deps import Csrf, SettingsDep, User, UserDep
from looptrace_web.pages import page

router = APIRouter()

DLQ_PAGE = 200


def admin_only(user: User) -> None:
    if user.role != "admin":
        raise BackendError(403, f"role {user.role!r} may not do this; admins only")


def known_topic(topic: str) -> None:
    if topic not in ALL_TOPICS:
        raise BackendError(404, f"no topic {topic!r}; choose one of {', '.join(ALL_TOPICS)}")


@router.post("/orders/{ref}/assign", dependencies=[Csrf])
async def assign(
    ref: str,
    user: UserDep,
    supplier_id: Annotated[str, Form()],
    supplier_name: Annotated[str, Form()] = "",
    supplier_email: Annotated[str, Form()] = "",
) -> Response:
    party: dict[str, Any] = {
        "id": supplier_id.strip(),
        "name": supplier_name.strip() or supplier_id.strip(),
    }
    if supplier_email.strip():
        party["email"] = supplier_email.strip()
    oid = quote(ref, safe="")
    await user.backend.post("orders", f"/v1/orders/{oid}/assign", {"supplier": party})
    return RedirectResponse(f"/orders/{oid}", status_code=303)


@router.get("/admin/dead-letters", response_class=HTMLResponse)
async def dead_letters(
    request: Request,
    user: UserDep,
    settings: SettingsDep,
    topic: str = ALL_TOPICS[0],
    replayed: int | None = None,
) -> Response:
    """A topic's dead letters (``<topic>.dlq``), read from the broker (admins only: no
    service answers these over HTTP; the console reads them as `looptrace dlq list` does)."""
    admin_only(user)
    known_topic(topic)
    letters = await read_dead_letters(settings, topic, DLQ_PAGE, timeout_ms=700)
    return page(request, "dead_letters.html", topics=ALL_TOPICS, topic=topic,
                letters=letters, replayed=replayed)  # fmt: skip


@router.post("/admin/dead-letters/replay", dependencies=[Csrf])
async def replay_dead_letters(
    user: UserDep, settings: SettingsDep, topic: Annotated[str, Form()]
) -> Response:
    """Publish the topic's dead letters back to it (as `looptrace dlq replay` does)."""
    admin_only(user)
    known_topic(topic)
    n = await replay(settings, dlq(topic), DLQ_PAGE)
    return RedirectResponse(f"/admin/dead-letters?topic={quote(topic)}&replayed={n}",
                            status_code=303)  # fmt: skip


@router.get("/admin/models", response_class=HTMLResponse)
async def models(request: Request, user: UserDep) -> Response:
    found = await user.backend.get("predictions", "/v1/models")
    items = [(v["version"], float(v["metrics"].get("auc") or v["metrics"].get("roc_auc") or 0))
             for v in found["versions"]]  # fmt: skip
    chart = (
        charts.bars("validation AUC per model version", items) if any(v for _, v in items) else ""
    )
    return page(request, "models.html", models=found, chart=chart)


@router.post("/admin/models/{version}/promote", dependencies=[Csrf])
async def promote(version: str, user: UserDep) -> Response:
    await user.backend.post("predictions", f"/v1/models/{quote(version, safe='')}/promote", None)
    return RedirectResponse("/admin/models", status_code=303)
