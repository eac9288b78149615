"""A local SMTP sink (aiosmtpd) that stores every received mail as an .eml file."""

from __future__ import annotations

import itertools
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


class MaildirHandler:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._seq = itertools.count(1)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd hook
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{next(self._seq):05d}.eml"
        rcpts = ", ".join(envelope.rcpt_tos)
        content = (
            envelope.content if isinstance(envelope.content, bytes) else envelope.content.encode()
        )
        (self.folder / name).write_bytes(f"X-Envelope-To: {rcpts}\r\n".encode() + content)
        return "250 Message accepted for delivery"


def start_sink(folder: Path, port: int) -> Controller:
    controller = Controller(MaildirHandler(folder), hostname="127.0.0.1", port=port)
    controller.start()
    return controller
