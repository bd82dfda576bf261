"""The webhook sender's HTTP/1.1 client against scripted answers on loopback: bodies by length,
chunked or until close; a kept-alive connection reused; one the receiver dropped meanwhile is
reopened once; errors become reasons, never exceptions."""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from operations.webhook_http import Delivery, Sender
from operations.webhook_messages import Message


class Scripted:
    """Answers each request with the next scripted reply; `None` closes without answering."""

    def __init__(self, replies: list[bytes | None], close_after: bool = False) -> None:
        self.replies, self.close_after = list(replies), close_after
        self.requests: list[bytes] = []
        self.connections = 0
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while self.replies:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            self.connections += 1
            with conn:
                while self.replies:
                    data = conn.recv(65536)
                    if not data:
                        break
                    self.requests.append(data)
                    reply = self.replies.pop(0)
                    if reply is None:
                        break
                    conn.sendall(reply)
                    if self.close_after:
                        break

    def close(self) -> None:
        self.server.close()


@pytest.fixture
def sender() -> Iterator[Sender]:
    made = Sender(timeout_s=5, workers=1)
    yield made
    made.close()


def _delivery(port: int, n: int = 1) -> Delivery:
    message = Message(f"msg_{n:032x}", n, "sale.recorded", f'{{"n":{n}}}')
    return Delivery(f"http://127.0.0.1:{port}/hooks?x=1", message, _sign)


def _sign(_: str, __: datetime, ___: str) -> str:
    return "v1,c2lnbmF0dXJl"


def test_answers_by_length_chunked_and_until_close_are_read_on_one_kept_alive_connection(sender: Sender) -> None:
    server = Scripted(
        [
            b"HTTP/1.1 204 No Content\r\n\r\n",
            b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nthanx",
            b"HTTP/1.1 202 Accepted\r\ntransfer-encoding: chunked\r\n\r\n3\r\nyes\r\n0\r\n\r\n",
            b"HTTP/1.1 500 Oops\r\ncontent-length: 0\r\n\r\n",
        ]
    )
    outcomes = sender.send_all([_delivery(server.port, n) for n in range(1, 5)])
    assert outcomes == [None, None, None, "HTTP 500"] and server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /hooks?x=1 HTTP/1.1\r\nhost: 127.0.0.1:")
    assert b"webhook-id: msg_" in first and b"webhook-signature: v1,c2lnbmF0dXJl" in first
    assert first.endswith(b'content-length: 7\r\n\r\n{"n":1}')
    server.close()


def test_a_body_until_close_ends_the_connection_and_the_next_opens_another(sender: Sender) -> None:
    server = Scripted([b"HTTP/1.0 200 OK\r\n\r\nfine", b"HTTP/1.0 204 No Content\r\n\r\n"], close_after=True)
    assert sender.send_all([_delivery(server.port, 1), _delivery(server.port, 2)]) == [None, None]
    assert server.connections == 2
    server.close()


def test_a_kept_alive_connection_the_receiver_dropped_is_reopened_once(sender: Sender) -> None:
    server = Scripted([b"HTTP/1.1 204 No Content\r\n\r\n", None, b"HTTP/1.1 204 No Content\r\n\r\n"])
    assert sender.send_all([_delivery(server.port, 1)]) == [None]
    assert sender.send_all([_delivery(server.port, 2)]) == [None]  # dropped, then sent again on a new one
    assert server.connections == 2 and len(server.requests) == 3
    server.close()


def test_refusals_garbage_and_silence_are_reasons(sender: Sender) -> None:
    with socket.create_server(("127.0.0.1", 0)) as unused:
        port = unused.getsockname()[1]
    [refused] = sender.send_all([_delivery(port)])
    assert refused is not None and "ConnectionRefusedError" in refused
    garbage = Scripted([b"SMTP ready\r\n\r\n"])
    [reason] = sender.send_all([_delivery(garbage.port)])
    assert reason is not None and "HttpParser" in reason
    garbage.close()
    silent = Scripted([None, None])
    [reason] = sender.send_all([_delivery(silent.port)])
    assert reason is not None and "RemoteDisconnected" in reason
    silent.close()


def test_https_checks_the_receivers_certificate(sender: Sender, tmp_path: Path) -> None:
    """A receiver whose certificate no known authority signed is refused, with the reason."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .sign(key, hashes.SHA256())
    )
    (tmp_path / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (tmp_path / "key.pem").write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def handshake() -> None:
        conn, _ = server.accept()
        with contextlib.suppress(OSError), context.wrap_socket(conn, server_side=True):
            pass

    threading.Thread(target=handshake, daemon=True).start()
    message = Message("msg_" + "0" * 32, 1, "sale.recorded", "{}")
    [reason] = sender.send_all([Delivery(f"https://127.0.0.1:{port}/hook", message, _sign)])
    assert reason is not None and "CERTIFICATE_VERIFY_FAILED" in reason
    server.close()
