"""The README's Python examples run as written against the mock IMDS."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import List

import pytest

from conftest import ACCESS_KEY_ID, REPO_ROOT, Mock

EXAMPLE = re.compile(
    r"<!-- python example begin -->\s*```python\n(.*?)```\s*<!-- python example end -->", re.S
)


def examples() -> List[str]:
    return EXAMPLE.findall((REPO_ROOT / "README.md").read_text())


def test_the_readme_has_examples() -> None:
    assert len(examples()) >= 2


@pytest.mark.parametrize("index", range(2))
def test_example_runs(index: int, mock: Mock, tmp_path: Path) -> None:
    code = examples()[index]
    empty = tmp_path / "empty"
    empty.write_text("")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(tmp_path),
        "AWS_CONFIG_FILE": str(empty),
        "AWS_SHARED_CREDENTIALS_FILE": str(empty),
        "AWS_EC2_METADATA_SERVICE_ENDPOINT": mock.endpoint,
    }
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    if index == 0:
        assert ACCESS_KEY_ID in done.stdout
        assert "us-east-1" in done.stdout
        assert "http_status" in done.stdout
        assert "redacted" in done.stdout
    else:
        assert done.stdout == "iam-role\n"
    assert len(mock.requests()) >= 3
