"""`imds.botocore`: the provider in a botocore/boto3 credential chain, and a real client end to end."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Callable, Iterator

import boto3
import botocore.session
import pytest
from botocore.credentials import InstanceMetadataProvider

import imds
import imds.botocore
from conftest import ACCESS_KEY_ID, EXPIRATION_UNIX, SECRET_ACCESS_KEY, SESSION_TOKEN, Mock, closed_port, script


@pytest.fixture
def no_other_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing but IMDS can give credentials: no variables, empty config and credentials files."""
    config = tmp_path / "empty-config"
    shared = tmp_path / "empty-credentials"
    config.write_text("")
    shared.write_text("")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(shared))


def test_install_replaces_botocores_instance_metadata_provider(
    mock: Mock, no_other_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", mock.endpoint)
    session = botocore.session.Session()
    resolver = session.get_component("credential_provider")
    position = [p.METHOD for p in resolver.providers].index("iam-role")
    assert isinstance(resolver.providers[position], InstanceMetadataProvider)

    installed = imds.botocore.install(session)

    assert resolver.providers[position] is installed
    assert not any(isinstance(p, InstanceMetadataProvider) for p in resolver.providers)
    credentials = session.get_credentials()
    assert credentials.method == "iam-role"
    frozen = credentials.get_frozen_credentials()
    assert (frozen.access_key, frozen.secret_key, frozen.token) == (
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        SESSION_TOKEN,
    )
    assert int(credentials._expiry_time.timestamp()) == EXPIRATION_UNIX
    assert len(mock.requests()) == 3


def test_boto3_session_and_earlier_providers_still_win(
    mock: Mock, no_other_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", mock.endpoint)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIAENVIRONMENT00001")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "from-the-environment")
    session = boto3.Session(region_name="us-east-1")
    imds.botocore.install(session)
    assert session.get_credentials().access_key == "AKIAENVIRONMENT00001"
    assert mock.requests() == [], "the chain stopped before IMDS"


def test_no_imds_means_the_chain_moves_on(no_other_credentials: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", f"http://127.0.0.1:{closed_port()}")
    session = botocore.session.Session()
    imds.botocore.install(session)
    assert session.get_credentials() is None


def test_refresh_goes_through_the_provider(mock: Mock, no_other_credentials: None) -> None:
    wall = [EXPIRATION_UNIX - 3600]
    provider = imds.Provider(endpoint=mock.endpoint, wall_clock=lambda: wall[0])
    session = botocore.session.Session()
    imds.botocore.install(session, provider)
    credentials = session.get_credentials()
    wall[0] = EXPIRATION_UNIX - 100
    metadata = credentials._refresh_using()
    assert metadata["access_key"] == ACCESS_KEY_ID
    assert metadata["expiry_time"] == "2030-01-01T00:00:00Z"
    assert len(mock.requests()) == 4, "the refresh fetched the credentials again"


@pytest.fixture
def moto_endpoint() -> Iterator[str]:
    """A moto server on 127.0.0.1 in its own process."""
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("moto_server.py"))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdin is not None and process.stdout is not None
    port = int(process.stdout.readline())
    yield f"http://127.0.0.1:{port}"
    process.stdin.close()
    process.wait(timeout=30)
    process.stdout.close()


def test_sts_get_caller_identity_with_imds_credentials(
    moto_endpoint: str,
    start_mock: Callable[..., Mock],
    no_other_credentials: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    iam = boto3.client(
        "iam",
        endpoint_url=moto_endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    user = iam.create_user(UserName="imds-e2e")["User"]
    key = iam.create_access_key(UserName="imds-e2e")["AccessKey"]
    mock = start_mock(
        script(
            credentials={
                "AccessKeyId": key["AccessKeyId"],
                "SecretAccessKey": key["SecretAccessKey"],
                "Token": "e2e-session-token",
                "Expiration": "2030-01-01T00:00:00Z",
            }
        )
    )
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", mock.endpoint)

    session = boto3.Session(region_name="us-east-1")
    imds.botocore.install(session)
    identity = session.client("sts", endpoint_url=moto_endpoint).get_caller_identity()

    assert identity["Arn"] == user["Arn"]
    assert identity["Arn"].endswith(":user/imds-e2e")
    assert session.get_credentials().access_key == key["AccessKeyId"]
    assert len(mock.requests()) == 3
