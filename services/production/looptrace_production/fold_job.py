"""The utilisation folder: a periodic job (``utilisation.fold``) and the weekly log snapshot."""

from __future__ import annotations

import logging
from typing import Any

from looptrace_production import utilisation
from looptrace_production.domain.capacity import week_of
from looptrace_production.services import Planning
from looptrace_shared.runtime import Runtime

log = logging.getLogger(__name__)


async def fold_utilisation(rt: Runtime[Any, Any], planning: Planning) -> int:
    """Fold the pending load changes, then snapshot the current week once."""
    async with rt.unit_of_work() as uow:
        emitted = await utilisation.fold(uow)
        await utilisation.snapshot(uow.session, week_of(planning.now().date()))
        await uow.commit()
    if emitted:
        log.info("utilisation: %d capacity events", emitted)
    return emitted
