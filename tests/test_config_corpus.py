"""The bad-input corpus: every case fails cleanly through app.py, with no template written."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, new_app

CORPUS = REPO_ROOT / "tests" / "config_corpus"
CASES = sorted(CORPUS.glob("*.yaml"))


@pytest.fixture(scope="module")
def app_module():
    spec = importlib.util.spec_from_file_location("cdk_app_entrypoint", REPO_ROOT / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_corpus_is_large_enough():
    assert len(CASES) >= 40


@pytest.mark.usefixtures("model_artifact")
@pytest.mark.parametrize("case", CASES, ids=[case.stem for case in CASES])
def test_case_fails_cleanly_naming_file_field_and_what_is_allowed(case: Path, app_module, tmp_path, capsys):
    raw = case.read_bytes()
    text = raw.decode("utf-8", errors="replace")
    expected = re.findall(r"^# expect: (.+)$", text, flags=re.M)
    assert expected, f"{case.name} has no '# expect:' line"
    file_name = (re.match(r"# file: (\S+)", text) or [None, "dev.yaml"])[1]
    config_dir = tmp_path / "config"
    config_dir.mkdir()
    (config_dir / file_name).write_bytes(raw)
    outdir = tmp_path / "cdk.out"

    app = new_app(outdir)
    app.node.set_context("config_dir", str(config_dir))
    exit_code = app_module.main(app)

    error = capsys.readouterr().err
    assert exit_code == 1
    assert "Traceback" not in error
    for line in expected:
        assert f"config/{line}" in error, f"missing: {line}\n--- got:\n{error}"
    assert not outdir.exists() or not list(outdir.rglob("*.template.json"))
