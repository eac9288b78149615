from looptrace_production.models import Base
from looptrace_shared.migrations import run_env

run_env(Base.metadata)
