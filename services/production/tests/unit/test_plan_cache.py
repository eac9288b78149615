"""The plan cache hands out only committed orders at the row version just locked."""

from datetime import date

from looptrace_production.calendar import WorkCalendar
from looptrace_production.domain import SupplierOrder
from looptrace_production.plan_cache import PlanCache
from looptrace_production.schedule import plan_stages, template_for
from looptrace_production.templates import load_templates

TEMPLATE = template_for(load_templates(), "knitwear")


def stored(order_id: str, version: int = 3) -> SupplierOrder:
    plan = plan_stages(TEMPLATE, date(2026, 6, 1), date(2026, 1, 5), WorkCalendar())
    facts = ("PO-" + order_id, "s", "S", "b", "knitwear", 10, date(2026, 6, 1), True)
    return SupplierOrder(order_id, *facts, plan=plan, version=version)


def test_an_order_is_handed_out_once_and_only_at_the_locked_version() -> None:
    cache = PlanCache(10)
    a = stored("a")
    cache.keep([a])
    assert cache.take("a", 4) is None  # someone else wrote version 4: read it afresh
    assert cache.take("a", 3) is None  # a miss drops the entry
    cache.keep([a])
    assert cache.take("a", 3) is a
    assert cache.take("a", 3) is None  # taken: in use by one transaction, not in the cache


def test_changed_or_unsaved_orders_are_not_kept() -> None:
    cache = PlanCache(10)
    changed, new = stored("c"), stored("n", version=0)
    changed.plan.version += 1  # changed in memory and not saved
    cache.keep([changed, new])
    assert len(cache) == 0


def test_the_least_recently_used_order_goes_first() -> None:
    cache = PlanCache(2)
    cache.keep([stored("a"), stored("b")])
    cache.keep([stored("c")])
    assert cache.take("a", 3) is None and cache.take("b", 3) and cache.take("c", 3)


def test_size_zero_keeps_nothing() -> None:
    cache = PlanCache(0)
    cache.keep([stored("a")])
    assert len(cache) == 0


def test_the_bound_is_the_plan_cache_size_setting() -> None:
    from looptrace_production.app import create_app
    from looptrace_production.config import ProductionSettings

    app = create_app(ProductionSettings(plan_cache_size=3))
    cache = app.state.runtime.state.plans
    cache.keep([stored(n) for n in "abcde"])
    assert cache.size == 3 and len(cache) == 3
