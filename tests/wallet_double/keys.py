"""A throwaway service account key, made fresh for each test session (never stored in git)."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

SA_EMAIL = "wallet-issuer@loyalty-tests.iam.gserviceaccount.com"


@dataclass(frozen=True)
class ServiceAccountKey:
    email: str
    #: The service account JSON key file (with ``private_key``).
    path: Path
    #: The matching X.509 certificate, as Google publishes for each service account key.
    cert_pem: str


def make_service_account_key(directory: Path) -> ServiceAccountKey:
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, SA_EMAIL)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .sign(private_key, hashes.SHA256())
    )
    pem = private_key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    info = {
        "type": "service_account",
        "project_id": "loyalty-tests",
        "private_key_id": "test-key-1",
        "private_key": pem,
        "client_email": SA_EMAIL,
        "client_id": "1234567890",
        # Unreachable on purpose: the tests must override it with the double's token URI.
        "token_uri": "https://oauth2.invalid/token",
    }
    path = directory / "service-account.json"
    path.write_text(json.dumps(info), encoding="utf-8")
    path.chmod(0o600)
    return ServiceAccountKey(SA_EMAIL, path, cert.public_bytes(serialization.Encoding.PEM).decode())
