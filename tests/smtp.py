"""A real SMTP server on loopback for mail tests, run by aiosmtpd in a thread.

Django's SMTP backend talks to it as to any server: ``accepting`` delivers every mail into
``messages``; a refusing server answers 554 to every recipient, as a relay that will not
take the mail does. ``black_hole`` accepts connections and never answers, as a relay that
hangs does.
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from django.test import override_settings

# aiosmtpd logs every command at INFO: noise in a failing test's output.
logging.getLogger("mail.log").setLevel(logging.WARNING)


@dataclass
class Handler:
    """Accepts mail into ``messages``, or refuses every recipient with 554."""

    refuse: bool = False
    messages: list[EmailMessage] = field(default_factory=list)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:  # noqa: N802
        if self.refuse:
            return "554 5.7.1 Relay refused"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(
            email.message_from_bytes(envelope.content, policy=email.policy.default)  # type: ignore[arg-type]
        )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def smtp_server(*, refuse: bool = False) -> Iterator[Handler]:
    """A server on 127.0.0.1 that Django's SMTP backend sends to while the block runs."""
    handler = Handler(refuse=refuse)
    port = _free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=port,
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_HOST_USER="",
            EMAIL_HOST_PASSWORD="",
            EMAIL_TIMEOUT=5,
        ):
            yield handler
    finally:
        controller.stop()


@contextmanager
def closed_port() -> Iterator[None]:
    """Django's SMTP backend pointed at a loopback port nobody listens on."""
    with override_settings(
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=_free_port(),
        EMAIL_USE_TLS=False,
        EMAIL_USE_SSL=False,
        EMAIL_TIMEOUT=5,
    ):
        yield


@contextmanager
def black_hole(*, timeout: int = 30) -> Iterator[list[socket.socket]]:
    """Django's SMTP backend pointed at a loopback server that accepts every connection and
    never says a word (no greeting): a client waits ``timeout`` seconds on each."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.2)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(conn)  # held open, never read, never answered

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with override_settings(
            EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
            EMAIL_HOST="127.0.0.1",
            EMAIL_PORT=listener.getsockname()[1],
            EMAIL_USE_TLS=False,
            EMAIL_USE_SSL=False,
            EMAIL_TIMEOUT=timeout,
        ):
            yield accepted
    finally:
        stop.set()
        thread.join(timeout=5)
        for conn in accepted:
            conn.close()
        listener.close()
