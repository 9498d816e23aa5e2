"""`python -m imds`: the `imds` command contract, byte for byte like the Rust command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import pytest

import imds
from imds import _imds
from conftest import ACCESS_KEY_ID, MOCK_BINARY, SECRET_ACCESS_KEY, SESSION_TOKEN, Mock, closed_port, script

RUST_CLI = Path(os.environ.get("IMDS_RUST_CLI", MOCK_BINARY.parent / "imds"))

Result = Tuple[int, bytes, bytes]


def run(command: List[str], args: List[str], env: Dict[str, str]) -> Result:
    done = subprocess.run(command + args, env=env, capture_output=True, timeout=60)
    return done.returncode, done.stdout, done.stderr


def python_imds(args: List[str], env: Dict[str, str]) -> Result:
    return run([sys.executable, "-m", "imds"], args, env)


@pytest.fixture
def env(tmp_path: Path) -> Dict[str, str]:
    """A clean environment: no AWS variable, an empty HOME."""
    home = tmp_path / "cli-home"
    home.mkdir()
    return {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}


def test_credentials(mock: Mock, env: Dict[str, str]) -> None:
    env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = mock.endpoint
    code, out, err = python_imds([], env)
    assert (code, err) == (0, b"")
    assert out.endswith(b"}\n") and out.count(b"\n") == 1
    document = json.loads(out)
    assert document == {
        "Version": 1,
        "AccessKeyId": ACCESS_KEY_ID,
        "SecretAccessKey": SECRET_ACCESS_KEY,
        "SessionToken": SESSION_TOKEN,
        "Expiration": "2030-01-01T00:00:00Z",
    }


def test_get(start_mock: Callable[..., Mock], env: Dict[str, str]) -> None:
    env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = start_mock(script()).endpoint
    assert python_imds(["get", "instance-id"], env) == (0, b"i-0123456789abcdef0\n", b"")


def test_trace_shows_requests_and_no_secret(mock: Mock, env: Dict[str, str]) -> None:
    env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = mock.endpoint
    code, out, err = python_imds(["--trace", "credentials"], env)
    assert code == 0
    lines = err.decode().splitlines()
    assert lines[0] == "imds: trace: > PUT /latest/api/token"
    assert all(line.startswith("imds: ") for line in lines)
    for secret in (SECRET_ACCESS_KEY, SESSION_TOKEN, "mock-imds-token"):
        assert secret not in err.decode()


def test_exit_codes(env: Dict[str, str]) -> None:
    code, out, err = python_imds(["bogus"], env)
    assert (code, out) == (_imds.EXIT_USAGE, b"")
    assert err.startswith(b"imds: unknown command `bogus`")
    code, out, err = python_imds(["--help"], env)
    assert (code, err) == (0, b"")
    assert out.decode() == _imds.help_text() and out.startswith((_imds.USAGE + "\n").encode())
    assert python_imds(["--version"], env) == (0, f"imds {imds.__version__}\n".encode(), b"")

    disabled = dict(env, AWS_EC2_METADATA_DISABLED="true")
    assert python_imds([], disabled)[0] == _imds.EXIT_DISABLED

    unreachable = dict(env, AWS_EC2_METADATA_SERVICE_ENDPOINT=f"http://127.0.0.1:{closed_port()}")
    code, out, err = python_imds([], unreachable)
    assert (code, out) == (_imds.EXIT_FETCH_FAILED, b"")
    assert err.startswith(b"imds: could not connect to IMDS") and err.count(b"\n") == 1

    invalid = dict(env, AWS_METADATA_SERVICE_NUM_ATTEMPTS="0")
    code, out, err = python_imds(["settings"], invalid)
    assert (code, out) == (_imds.EXIT_USAGE, b"")
    assert b"AWS_METADATA_SERVICE_NUM_ATTEMPTS" in err


def test_settings_makes_no_request(mock: Mock, env: Dict[str, str]) -> None:
    env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = mock.endpoint
    code, out, err = python_imds(["settings"], env)
    assert (code, err) == (0, b"")
    assert out.startswith(b"disabled = ")
    assert mock.requests() == []


CASES: List[Tuple[str, List[str], Dict[str, str], Optional[dict]]] = [
    ("credentials", [], {}, script()),
    ("trace", ["--trace"], {}, script()),
    ("v1 fallback trace", ["--trace"], {}, script(responses=[{"path": "/latest/api/token", "status": 404}])),
    ("no role", [], {}, script(role=None)),
    ("v1 blocked", [], {"AWS_EC2_METADATA_V1_DISABLED": "true"},
     script(responses=[{"path": "/latest/api/token", "status": 403}])),
    ("settings", ["settings"], {"AWS_METADATA_SERVICE_TIMEOUT": "2.5"}, script()),
    ("settings defaults", ["settings"], {}, None),
    ("disabled", [], {"AWS_EC2_METADATA_DISABLED": "true"}, None),
    ("invalid disabled", [], {"AWS_EC2_METADATA_DISABLED": "yes"}, None),
    ("usage", ["get"], {}, None),
    ("help", ["help"], {}, None),
    ("--help", ["--help"], {}, None),
    ("--version", ["--version"], {}, None),
    ("two commands", ["settings", "credentials"], {}, None),
]


def outcome(
    command: List[str], args: List[str], env: Dict[str, str], spec: Optional[dict], start_mock: Callable[..., Mock]
) -> Result:
    """What `command args` does, against a fresh mock serving `spec` when there is one (scripted
    overrides are consumed per server), with the mock's endpoint written `{endpoint}`."""
    run_env = dict(env)
    endpoint = ""
    if spec is not None:
        endpoint = start_mock(spec).endpoint
        run_env["AWS_EC2_METADATA_SERVICE_ENDPOINT"] = endpoint
    code, out, err = run(command, args, run_env)
    if endpoint:
        out, err = (x.replace(endpoint.encode(), b"{endpoint}") for x in (out, err))
    return code, out, err


# The console script pip installs next to the interpreter ([project.scripts] in pyproject.toml).
CONSOLE_SCRIPT = Path(sys.executable).with_name("imds")

# What `python -m imds` is compared with, byte for byte.
OTHER_COMMANDS = {"rust": RUST_CLI, "console script": CONSOLE_SCRIPT}


@pytest.mark.parametrize("other", list(OTHER_COMMANDS))
@pytest.mark.parametrize("name,args,extra,spec", CASES, ids=[c[0] for c in CASES])
def test_same_bytes_as(
    other: str,
    name: str,
    args: List[str],
    extra: Dict[str, str],
    spec: Optional[dict],
    start_mock: Callable[..., Mock],
    env: Dict[str, str],
) -> None:
    command = OTHER_COMMANDS[other]
    if other == "rust" and not command.exists():
        pytest.skip("the Rust imds command is not built")
    assert command.exists(), f"{command} missing: the wheel installs no `imds` script"
    env.update(extra)
    python = outcome([sys.executable, "-m", "imds"], args, env, spec, start_mock)
    assert python == outcome([str(command)], args, env, spec, start_mock)
