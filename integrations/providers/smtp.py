"""SMTP: connect (+ STARTTLS or implicit TLS) and log in to check; send mail.

The host goes through the SSRF guard like every outbound call: it is resolved once,
refused when private (unless ORCHESTRATOR_ALLOW_PRIVATE_NETWORKS), and the socket
connects to that very address while TLS still verifies the host name.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid

from orchestrator.security.netguard import resolve_checked
from orchestrator.step_types.execution import StepError


class _PinnedSMTP(smtplib.SMTP):
    def __init__(self, address: str, **kwargs: object) -> None:
        self._address = address
        super().__init__(**kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return socket.create_connection((self._address, port), timeout, self.source_address)


class _PinnedSMTPSSL(smtplib.SMTP_SSL):
    def __init__(self, address: str, **kwargs: object) -> None:
        self._address = address
        super().__init__(**kwargs)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        sock = socket.create_connection((self._address, port), timeout, self.source_address)
        return self.context.wrap_socket(sock, server_hostname=self._host)


def _open(config: dict, timeout: float) -> smtplib.SMTP:
    host, port = str(config["host"]), int(config["port"])
    address = resolve_checked(host, port)
    context = ssl.create_default_context()
    # A fixed EHLO name: socket.getfqdn() may wait on reverse DNS.
    common = {"local_hostname": "orchestrator.localdomain", "timeout": timeout}
    try:
        if config.get("use_ssl"):
            server: smtplib.SMTP = _PinnedSMTPSSL(address, context=context, **common)
        else:
            server = _PinnedSMTP(address, **common)
        server.connect(host, port)
        try:
            if config.get("use_tls"):
                server.starttls(context=context)
            if config.get("username"):
                server.login(str(config["username"]), str(config.get("password") or ""))
        except BaseException:
            server.close()
            raise
    except smtplib.SMTPAuthenticationError as exc:
        raise StepError(f"SMTP login to {host}:{port} failed: {exc.smtp_code} {_text(exc.smtp_error)}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise StepError(f"SMTP server {host}:{port} does not support this: {exc}") from None
    except smtplib.SMTPException as exc:
        raise StepError(f"SMTP conversation with {host}:{port} failed: {exc}") from None
    except TimeoutError:
        raise StepError(f"SMTP connection to {host}:{port} timed out after {timeout} s.", kind="timeout") from None
    except ssl.SSLError as exc:
        raise StepError(f"TLS with {host}:{port} failed: {exc.reason or exc}", kind="network") from None
    except OSError as exc:
        raise StepError(f"SMTP connection to {host}:{port} failed: {exc.strerror or exc}", kind="network") from None
    return server


def _text(value: object) -> str:
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def check(config: dict, *, secrets: list[str], timeout: float) -> str:
    server = _open(config, timeout)
    try:
        server.noop()
    finally:
        server.close()
    how = " with STARTTLS" if config.get("use_tls") else (" over TLS" if config.get("use_ssl") else "")
    who = f", logged in as {config['username']}" if config.get("username") else ""
    return f"Connected to {config['host']}:{config['port']}{how}{who}."


def _addresses(value: object, field: str) -> list[str]:
    items = value if isinstance(value, list) else [value] if value else []
    found = [addr for _, addr in getaddresses([str(v) for v in items]) if "@" in addr]
    if len(found) < len([v for v in items if str(v).strip()]):
        raise StepError(f"email.send: {field} holds something that is not an email address.")
    return found


def send(config: dict, params: dict, *, secrets: list[str], timeout: float) -> dict:
    """The ``email.send`` action: ``to``, ``subject``, ``body`` (or ``text``), optional ``html``,
    ``cc``, ``bcc``, ``reply_to`` → ``{accepted, refused, message_id}``."""
    to, cc, bcc = (_addresses(params.get(f), f) for f in ("to", "cc", "bcc"))
    if not to:
        raise StepError("email.send needs a recipient (params.to).")
    message = EmailMessage()
    message["From"] = str(config["from_email"])
    message["To"] = ", ".join(to)
    if cc:
        message["Cc"] = ", ".join(cc)
    if params.get("reply_to"):
        message["Reply-To"] = str(params["reply_to"])
    message["Subject"] = str(params.get("subject") or "")
    message["Message-ID"] = make_msgid(domain="orchestrator.localdomain")
    text = params.get("body", params.get("text"))
    message.set_content("" if text is None else text if isinstance(text, str) else str(text))
    if params.get("html"):
        message.add_alternative(str(params["html"]), subtype="html")
    server = _open(config, timeout)
    try:
        refused = server.send_message(message, to_addrs=to + cc + bcc)
    except smtplib.SMTPRecipientsRefused as exc:
        raise StepError(f"The SMTP server refused every recipient: {', '.join(exc.recipients)}") from None
    except smtplib.SMTPException as exc:
        raise StepError(f"Sending mail through {config['host']} failed: {exc}") from None
    except OSError as exc:
        raise StepError(f"Sending mail through {config['host']} failed: {exc}", kind="network") from None
    finally:
        try:
            server.quit()
        except (smtplib.SMTPException, OSError):
            server.close()
    return {
        "accepted": [a for a in to + cc + bcc if a not in refused],
        "refused": {a: f"{code} {_text(msg)}" for a, (code, msg) in refused.items()},
        "message_id": message["Message-ID"],
    }
