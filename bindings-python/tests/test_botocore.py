"""`imds.botocore`: the provider in a botocore/boto3 credential chain, and a real client end to end."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Callable, Dict, Optional

import boto3
import botocore.session
import pytest
from botocore.credentials import EnvProvider, InstanceMetadataProvider
from botocore.exceptions import InvalidConfigError

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


# The next link of the chain after imds: botocore's own environment provider, reading a mapping.
NEXT_ACCESS_KEY = "AKIANEXTPROVIDER0001"
NEXT_ENVIRONMENT = {"AWS_ACCESS_KEY_ID": NEXT_ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": "next-provider-secret"}

CREDENTIALS_PATH = "/latest/meta-data/iam/security-credentials/python-test-role"

# name: (environment, mock script or None for none, whether it is an error answer worth a warning)
FALL_THROUGH: Dict[str, Any] = {
    "IMDS down (connection refused)": ({"endpoint": "closed"}, None, False),
    "IMDS disabled": ({"AWS_EC2_METADATA_DISABLED": "true"}, script(), False),
    "no role attached": ({}, script(role=None), False),
    "IMDS refuses the credentials": (
        {},
        script(credentials={"Code": "AssumeRoleUnauthorizedAccess", "Message": "not authorized"}),
        True,
    ),
    "IMDS answers 500 to every attempt": (
        {"AWS_METADATA_SERVICE_NUM_ATTEMPTS": "2"},
        script(responses=[{"path": CREDENTIALS_PATH, "status": 500, "times": 0}]),
        True,
    ),
}


def point_at_imds(
    environment: Dict[str, str],
    spec: Optional[Dict[str, Any]],
    start_mock: Callable[..., Mock],
    monkeypatch: pytest.MonkeyPatch,
) -> Optional[Mock]:
    """Sets the environment of a FALL_THROUGH case; returns its mock, if it has one."""
    mock = start_mock(spec) if spec is not None else None
    endpoint = mock.endpoint if mock is not None else f"http://127.0.0.1:{closed_port()}"
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", endpoint)
    for name, value in environment.items():
        if name != "endpoint":
            monkeypatch.setenv(name, value)
    return mock


@pytest.mark.parametrize("case", FALL_THROUGH, ids=list(FALL_THROUGH))
def test_when_imds_has_no_credentials_the_next_provider_answers(
    case: str,
    start_mock: Callable[..., Mock],
    no_other_credentials: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    environment, spec, warns = FALL_THROUGH[case]
    point_at_imds(environment, spec, start_mock, monkeypatch)
    session = boto3.Session(region_name="us-east-1")
    installed = imds.botocore.install(session)
    resolver = session._session.get_component("credential_provider")
    resolver.insert_after("iam-role", EnvProvider(environ=NEXT_ENVIRONMENT))

    with caplog.at_level(logging.DEBUG, logger="imds"):
        assert session.get_credentials().access_key == NEXT_ACCESS_KEY
        assert installed.load() is None, "a second try gives nothing either"
    failures = [r for r in caplog.records if r.name == "imds" and r.getMessage().startswith("no credentials from IMDS: ")]
    assert len(failures) == 2
    warnings = [r for r in failures if r.levelno == logging.WARNING]
    assert len(warnings) == (1 if warns else 0), "an error answer is one warning; an absent IMDS none"


@pytest.mark.parametrize(
    "name,value",
    [("AWS_EC2_METADATA_DISABLED", "yes"), ("AWS_EC2_INSTANCE_PROFILE_NAME", "not a role")],
)
def test_an_invalid_setting_stops_the_chain_with_a_configuration_error(
    name: str, value: str, mock: Mock, no_other_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", mock.endpoint)
    monkeypatch.setenv(name, value)
    session = boto3.Session(region_name="us-east-1")
    imds.botocore.install(session)
    resolver = session._session.get_component("credential_provider")
    resolver.insert_after("iam-role", EnvProvider(environ=NEXT_ENVIRONMENT))

    with pytest.raises(InvalidConfigError) as raised:
        session.client("sts")
    assert str(raised.value).startswith(f"imds: invalid {name} (env): `{value}`")
    assert isinstance(raised.value.__cause__, imds.InvalidSettingError)
    assert mock.requests() == [], "no request was made"


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
