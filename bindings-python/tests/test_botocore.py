"""`imds.botocore`: the provider in a botocore/boto3 credential chain, and a real client end to end."""

from __future__ import annotations

import logging
from typing import Callable

import boto3
import botocore.session
import pytest
from botocore.credentials import EnvProvider, InstanceMetadataProvider
from botocore.exceptions import InvalidConfigError

import imds
import imds.botocore
from conftest import (
    ACCESS_KEY_ID,
    EXPIRATION_UNIX,
    FALL_THROUGH,
    INVALID_SETTINGS,
    NEXT_ACCESS_KEY,
    NEXT_ENVIRONMENT,
    SECRET_ACCESS_KEY,
    SESSION_TOKEN,
    Mock,
    closed_port,
    assert_configuration_error,
    assert_failures_logged,
    serve_access_key,
    set_up_fall_through,
)


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


@pytest.mark.parametrize("case", FALL_THROUGH, ids=list(FALL_THROUGH))
def test_when_imds_has_no_credentials_the_next_provider_answers(
    case: str,
    start_mock: Callable[..., Mock],
    no_other_credentials: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    warns = set_up_fall_through(case, start_mock, monkeypatch)
    session = boto3.Session(region_name="us-east-1")
    installed = imds.botocore.install(session)
    resolver = session._session.get_component("credential_provider")
    resolver.insert_after("iam-role", EnvProvider(environ=NEXT_ENVIRONMENT))

    with caplog.at_level(logging.DEBUG, logger="imds"):
        assert session.get_credentials().access_key == NEXT_ACCESS_KEY
        assert installed.load() is None, "a second try gives nothing either"
    assert_failures_logged(caplog, tries=2, warns=warns)


@pytest.mark.parametrize("name,value", INVALID_SETTINGS)
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
    assert_configuration_error(raised.value, name, value, mock)


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
    mock = serve_access_key(key, start_mock, monkeypatch)

    session = boto3.Session(region_name="us-east-1")
    imds.botocore.install(session)
    identity = session.client("sts", endpoint_url=moto_endpoint).get_caller_identity()

    assert identity["Arn"] == user["Arn"]
    assert identity["Arn"].endswith(":user/imds-e2e")
    assert session.get_credentials().access_key == key["AccessKeyId"]
    assert len(mock.requests()) == 3
