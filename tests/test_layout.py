"""The repository layout promises users rely on."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from tests.conftest import REPO_ROOT


def test_constructs_is_the_installed_library_not_a_local_package():
    import constructs

    assert "site-packages" in Path(constructs.__file__).parts
    assert not (REPO_ROOT / "constructs").exists()
    assert importlib.util.find_spec("constructs._jsii") is not None


def test_constructs_package_lives_in_inference_constructs():
    assert (REPO_ROOT / "inference_constructs" / "__init__.py").is_file()
