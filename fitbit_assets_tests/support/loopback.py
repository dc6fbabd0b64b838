"""Loopback servers of the alert channels' tests: a free port, an SMTP inbox (aiosmtpd handler)."""

from __future__ import annotations

import email.policy
import socket
from email import message_from_bytes


def free_loopback_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """An aiosmtpd handler keeping every message it receives: (mail_from, rcpt_tos, message)."""

    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=email.policy.default)))
        return "250 OK"
