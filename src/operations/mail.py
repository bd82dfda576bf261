"""Statement emails over SMTP (smtplib), configured by ROYALTY_SMTP_* settings.

A message carries a stable Message-ID (one per period and party), so a receiving system that
sees it twice — the one window is a crash between the server's "250 OK" and the Delivered event
— can tell it is the same message.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage

SMTP_ENV = "ROYALTY_SMTP_HOST"


class MailNotConfigured(RuntimeError):
    """No SMTP server is configured (ROYALTY_SMTP_HOST)."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int = 25
    sender: str = "statements@localhost"
    username: str | None = None
    password: str | None = None
    starttls: bool = False
    timeout_s: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SmtpSettings:
        env = os.environ if environ is None else environ
        host = env.get(SMTP_ENV)
        if not host:
            raise MailNotConfigured(f"set {SMTP_ENV} (and ROYALTY_SMTP_PORT, _FROM, _USER, _PASSWORD, _STARTTLS)")
        return cls(
            host=host,
            port=int(env.get("ROYALTY_SMTP_PORT", "25")),
            sender=env.get("ROYALTY_SMTP_FROM", "statements@localhost"),
            username=env.get("ROYALTY_SMTP_USER") or None,
            password=env.get("ROYALTY_SMTP_PASSWORD") or None,
            starttls=env.get("ROYALTY_SMTP_STARTTLS", "0").lower() in ("1", "true", "yes"),
        )


def statement_message_id(period: str, party: str, domain: str = "royalty-ledger") -> str:
    """The same id for every attempt at one party's statement of one month."""
    safe = "".join(c if c.isalnum() or c in "-._" else "-" for c in party)
    return f"<statement.{period}.{safe}@{domain}>"


@dataclass
class Mailer:
    settings: SmtpSettings

    def send_statement(self, to: str, party_name: str, period: str, message_id: str, pdf: bytes, filename: str) -> None:
        """Send one statement; raises OSError / smtplib.SMTPException when the server refuses."""
        msg = EmailMessage()
        msg["From"] = self.settings.sender
        msg["To"] = to
        msg["Subject"] = f"Your royalty statement for {period}"
        msg["Message-ID"] = message_id
        msg.set_content(
            f"Hello {party_name},\n\nyour royalty statement for {period} is attached (PDF). It is also "
            f"available through the API: GET /v1/parties/<your party key>/statements/{period}?format=pdf\n"
        )
        msg.add_attachment(pdf, maintype="application", subtype="pdf", filename=filename)
        with smtplib.SMTP(self.settings.host, self.settings.port, timeout=self.settings.timeout_s) as smtp:
            if self.settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if self.settings.username:
                smtp.login(self.settings.username, self.settings.password or "")
            smtp.send_message(msg)
