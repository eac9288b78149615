"""Which failures are transient (retry with backoff) and which are not (isolate, dead-letter)."""

from __future__ import annotations

import asyncpg
from aiokafka.errors import KafkaConnectionError, KafkaTimeoutError
from sqlalchemy import exc as sa_exc

_TRANSIENT_PG = (
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.SerializationError,
    asyncpg.exceptions.DeadlockDetectedError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.TooManyConnectionsError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.InterfaceError,
)


def is_transient(err: BaseException) -> bool:
    if isinstance(
        err, ConnectionError | TimeoutError | OSError | KafkaConnectionError | KafkaTimeoutError
    ):
        return True
    if isinstance(err, sa_exc.DBAPIError):
        if err.connection_invalidated:
            return True
        return is_transient(err.orig) if err.orig is not None else False
    if isinstance(err, sa_exc.OperationalError | sa_exc.TimeoutError | sa_exc.DisconnectionError):
        return True
    if isinstance(err, _TRANSIENT_PG):
        return True
    cause = err.__cause__
    return cause is not None and cause is not err and is_transient(cause)
