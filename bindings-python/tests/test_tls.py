"""An `https` endpoint: both drivers speak TLS and verify the certificate."""

from __future__ import annotations

import asyncio
import datetime
import ipaddress
import ssl
from pathlib import Path
from typing import Callable, Tuple

import pytest

import imds
import imds.aio
from conftest import ACCESS_KEY_ID, DroppingProxy, Mock


def self_signed(tmp: Path) -> Tuple[Path, Path]:
    """A certificate for 127.0.0.1 / localhost, and its key."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "imds test")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def tls_proxy(
    mock: Mock, dropping_proxy: Callable[..., DroppingProxy], tmp_path: Path
) -> Tuple[str, Path]:
    """A TLS front for the mock: its `https://` endpoint and the certificate to trust."""
    cert, key = self_signed(tmp_path)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert, key)
    proxy = dropping_proxy(mock.port, tls=server)
    return proxy.endpoint.replace("http://", "https://"), cert


def test_https_endpoint_with_a_trusted_certificate(
    tls_proxy: Tuple[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    endpoint, cert = tls_proxy
    monkeypatch.setenv("SSL_CERT_FILE", str(cert))
    client = imds.Client(imds.load_settings(endpoint=endpoint))
    client.start_credentials(0, 0)
    connect = client.poll(0)
    assert isinstance(connect, imds.Action.Connect) and connect.tls
    client.cancel()

    assert imds.fetch_credentials(endpoint=endpoint).access_key_id == ACCESS_KEY_ID
    got = asyncio.run(imds.aio.fetch_credentials(endpoint=endpoint))
    assert got.access_key_id == ACCESS_KEY_ID


def test_untrusted_certificate_is_refused(
    tls_proxy: Tuple[str, Path],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    endpoint, _ = tls_proxy
    (tmp_path / "other").mkdir()
    other, _ = self_signed(tmp_path / "other")  # a different certificate
    monkeypatch.setenv("SSL_CERT_FILE", str(other))
    with pytest.raises(imds.ConnectFailedError), caplog.at_level("DEBUG", logger="imds"):
        imds.fetch_credentials(endpoint=endpoint)
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text, "the reason is logged"
    with pytest.raises(imds.ConnectFailedError):
        asyncio.run(imds.aio.fetch_credentials(endpoint=endpoint))
