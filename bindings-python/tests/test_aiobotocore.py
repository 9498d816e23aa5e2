"""`imds.aiobotocore`: the asyncio provider in an aiobotocore credential chain, and a real client
signing a call to moto with the credentials imds-mock served.

aiobotocore pins botocore to a narrow range that the main test venv's botocore is outside of, so
`make test` runs this file in a venv of its own (`.venv-aiobotocore`, requirements-aiobotocore.txt)
with IMDS_REQUIRE_AIOBOTOCORE=1, where a missing aiobotocore is a failure; elsewhere it is skipped.
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, Callable, Coroutine, Dict, TypeVar

import pytest

if not os.environ.get("IMDS_REQUIRE_AIOBOTOCORE"):
    pytest.importorskip("aiobotocore", reason="aiobotocore is tested in its own venv (make test-python)")

from aiobotocore.credentials import AioEnvProvider, AioInstanceMetadataProvider
from aiobotocore.session import AioSession, get_session
from botocore.exceptions import InvalidConfigError

import imds
import imds.aio
import imds.aiobotocore
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
    assert_configuration_error,
    assert_failures_logged,
    serve_access_key,
    set_up_fall_through,
)

T = TypeVar("T")

def run(coroutine: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coroutine)


def with_next_provider(session: AioSession) -> None:
    """Puts aiobotocore's environment provider, reading NEXT_ENVIRONMENT, after imds."""
    resolver = session.get_component("credential_provider")
    resolver.insert_after("iam-role", AioEnvProvider(environ=NEXT_ENVIRONMENT))


def test_install_replaces_aiobotocores_instance_metadata_provider(
    mock: Mock, no_other_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", mock.endpoint)
    session = get_session()
    resolver = session.get_component("credential_provider")
    position = [p.METHOD for p in resolver.providers].index("iam-role")
    assert isinstance(resolver.providers[position], AioInstanceMetadataProvider)

    installed = imds.aiobotocore.install(session)

    assert resolver.providers[position] is installed
    assert not any(isinstance(p, AioInstanceMetadataProvider) for p in resolver.providers)

    async def frozen() -> Any:
        credentials = await session.get_credentials()
        assert credentials.method == "iam-role"
        assert int(credentials._expiry_time.timestamp()) == EXPIRATION_UNIX
        frozen = await credentials.get_frozen_credentials()
        installed.provider.close()
        return frozen

    frozen_credentials = run(frozen())
    assert (frozen_credentials.access_key, frozen_credentials.secret_key, frozen_credentials.token) == (
        ACCESS_KEY_ID,
        SECRET_ACCESS_KEY,
        SESSION_TOKEN,
    )
    assert len(mock.requests()) == 3


def test_refresh_goes_through_the_asyncio_provider(mock: Mock, no_other_credentials: None) -> None:
    wall = [EXPIRATION_UNIX - 3600]
    provider = imds.aio.Provider(endpoint=mock.endpoint, wall_clock=lambda: wall[0])
    session = get_session()
    imds.aiobotocore.install(session, provider)

    async def refresh() -> Dict[str, Any]:
        credentials = await session.get_credentials()
        wall[0] = EXPIRATION_UNIX - 100
        metadata: Dict[str, Any] = await credentials._refresh_using()
        provider.close()
        return metadata

    metadata = run(refresh())
    assert metadata["access_key"] == ACCESS_KEY_ID
    assert metadata["expiry_time"] == "2030-01-01T00:00:00Z"
    assert len(mock.requests()) == 4, "the refresh fetched the credentials again"


@pytest.mark.parametrize("case", FALL_THROUGH, ids=list(FALL_THROUGH))
def test_when_imds_has_no_credentials_the_next_provider_answers(
    case: str,
    start_mock: Callable[..., Mock],
    no_other_credentials: None,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    warns = set_up_fall_through(case, start_mock, monkeypatch)
    session = get_session()
    installed = imds.aiobotocore.install(session)
    with_next_provider(session)

    async def twice() -> Any:
        credentials = await session.get_credentials()
        assert await installed.load() is None, "a second try gives nothing either"
        return await credentials.get_frozen_credentials()

    with caplog.at_level(logging.DEBUG, logger="imds"):
        assert run(twice()).access_key == NEXT_ACCESS_KEY
    assert_failures_logged(caplog, tries=2, warns=warns)


@pytest.mark.parametrize("name,value", INVALID_SETTINGS)
def test_an_invalid_setting_stops_the_chain_with_a_configuration_error(
    name: str, value: str, mock: Mock, no_other_credentials: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", mock.endpoint)
    monkeypatch.setenv(name, value)
    session = get_session()
    imds.aiobotocore.install(session)
    with_next_provider(session)

    with pytest.raises(InvalidConfigError) as raised:
        run(session.get_credentials())
    assert_configuration_error(raised.value, name, value, mock)


def test_sts_get_caller_identity_signed_with_imds_credentials(
    moto_endpoint: str,
    start_mock: Callable[..., Mock],
    no_other_credentials: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    admin = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}

    async def scenario() -> None:
        # An IAM user with an access key, made on moto with dummy administrator credentials.
        async with get_session().create_client("iam", endpoint_url=moto_endpoint, **admin) as iam:
            user = (await iam.create_user(UserName="imds-aio-e2e"))["User"]
            key = (await iam.create_access_key(UserName="imds-aio-e2e"))["AccessKey"]
        # imds-mock serves that key as the instance role's credentials.
        mock = serve_access_key(key, start_mock, monkeypatch)

        session = get_session()
        installed = imds.aiobotocore.install(session)
        async with session.create_client("sts", endpoint_url=moto_endpoint, region_name="us-east-1") as sts:
            identity = await sts.get_caller_identity()
        installed.provider.close()

        # moto names the user whose access key signed the request: the key imds-mock served.
        assert identity["Arn"] == user["Arn"]
        assert identity["Arn"].endswith(":user/imds-aio-e2e")
        frozen = await (await session.get_credentials()).get_frozen_credentials()
        assert frozen.access_key == key["AccessKeyId"]
        assert len(mock.requests()) == 3

    run(scenario())
