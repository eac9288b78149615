"""Production's domain, by concept: ``stage`` (one stage: template and state), ``layout`` (which
stages take part and what each waits for), ``forecast`` (dates), ``rework`` (the QC gate and
rework after a failed inspection), ``plan`` (progress reports on a plan) and ``supplier_order``
(the aggregate). No I/O; how a plan is stored is ``plan_codec``.
"""

from looptrace_production.domain.plan import CLOCK_SKEW, Plan
from looptrace_production.domain.stage import ProgressReport, Stage
from looptrace_production.domain.supplier_order import SupplierOrder

__all__ = ["CLOCK_SKEW", "Plan", "ProgressReport", "Stage", "SupplierOrder"]
