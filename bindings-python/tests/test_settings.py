"""Settings with their sources, from code, the environment and the config file."""

from __future__ import annotations

from pathlib import Path

import pytest

import imds

REPORT_ORDER = [
    "disabled",
    "v1_disabled",
    "endpoint",
    "endpoint_mode",
    "timeout",
    "attempts",
    "instance_profile_name",
    "token_ttl",
    "credentials_api",
    "refresh_window",
]


def test_defaults() -> None:
    settings = imds.load_settings(env={})
    assert settings.endpoint == "http://169.254.169.254"
    assert settings.endpoint_mode == "IPv4"
    assert settings.timeout_ms == 1000
    assert settings.attempts == 4
    assert settings.token_ttl_secs == 21600
    assert settings.refresh_window_secs == 300
    assert settings.credentials_api == "legacy"
    assert settings.instance_profile_name is None
    assert not settings.disabled and not settings.v1_disabled
    assert set(settings.sources.values()) == {"default"}
    assert list(settings.sources) == REPORT_ORDER


def test_precedence_code_over_env_over_profile(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(
        "[profile work]\nmetadata_service_num_attempts = 3\nmetadata_service_timeout = 4\n"
        "ec2_metadata_service_endpoint_mode = IPv6\n"
    )
    env = {"AWS_CONFIG_FILE": str(config), "AWS_PROFILE": "work", "AWS_METADATA_SERVICE_TIMEOUT": "2"}
    settings = imds.load_settings(env=env, timeout=0.5)
    assert (settings.timeout_ms, settings.source("timeout")) == (500, "code")
    assert (settings.attempts, settings.source("attempts")) == (3, "profile")
    assert settings.endpoint == "http://[fd00:ec2::254]"
    assert settings.source("endpoint_mode") == "profile"
    assert imds.load_settings(env=env).source("timeout") == "env"


def test_python_values_become_setting_text() -> None:
    settings = imds.load_settings(
        env={}, v1_disabled=True, attempts=2, instance_profile_name="my-role", endpoint=None
    )
    assert settings.v1_disabled and settings.attempts == 2
    assert settings.instance_profile_name == "my-role"
    assert settings.source("endpoint") == "default", "None means unset"


def test_unknown_keyword_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="unknown setting"):
        imds.load_settings(env={}, endpont="http://127.0.0.1:1")
    with pytest.raises(KeyError):
        imds.load_settings(env={}).source("nope")


def test_report_lists_every_setting_in_order() -> None:
    report = imds.load_settings(env={"AWS_EC2_METADATA_SERVICE_ENDPOINT": "http://127.0.0.1:1338"}).report()
    names = [line.split(" = ")[0] for line in report.splitlines() if " = " in line]
    assert names[: len(REPORT_ORDER)] == REPORT_ORDER
    endpoint_line = next(line for line in report.splitlines() if line.startswith("endpoint = "))
    assert "http://127.0.0.1:1338" in endpoint_line and "env" in endpoint_line


def test_process_environment_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_EC2_METADATA_V1_DISABLED", "TRUE")
    settings = imds.load_settings()
    assert settings.v1_disabled and settings.source("v1_disabled") == "env"


def test_settings_are_frozen() -> None:
    settings = imds.load_settings(env={})
    with pytest.raises(AttributeError):
        settings.attempts = 3  # type: ignore[misc]
    assert "endpoint='http://169.254.169.254'" in repr(settings)
