from looptrace_predictions.models import Base
from looptrace_shared.migrations import run_env

run_env(Base.metadata)
