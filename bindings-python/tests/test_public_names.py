"""`dir(imds)` and `help(imds)` show every public name, the lazily loaded `Provider` included."""

from __future__ import annotations

import __future__
import pydoc
import subprocess
import sys
from types import ModuleType

import imds


def test_all_is_every_public_name_and_each_resolves() -> None:
    not_api = (ModuleType, __future__._Feature)  # submodules, `from __future__ import annotations`
    public = {
        name
        for name in dir(imds)
        if not name.startswith("_") and name != "TYPE_CHECKING" and not isinstance(getattr(imds, name), not_api)
    }
    assert public == set(imds.__all__) - {"__version__"}
    for name in imds.__all__:
        assert getattr(imds, name) is not None, name


def test_dir_lists_provider_before_it_is_loaded() -> None:
    # A fresh interpreter: nothing has touched `imds.Provider` yet.
    code = "import imds, sys; print('imds.provider' in sys.modules, 'Provider' in dir(imds))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]


def test_help_documents_every_public_class_and_function() -> None:
    text = pydoc.render_doc(imds, renderer=pydoc.plaintext)
    for name in imds.__all__:
        value = getattr(imds, name)
        if isinstance(value, type):
            assert f"class {name}" in text, name
        elif callable(value):
            assert f"\n    {name}(" in text, name
    assert "class Provider" in text
