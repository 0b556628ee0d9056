"""``python -m model_code.serve``: argument errors stop it before anything starts."""

from __future__ import annotations

import pytest

from model_code.serve import main, parser


def test_defaults_match_the_container(model_artifact):
    args = parser().parse_args([])
    assert (args.host, args.port, args.mode) == ("127.0.0.1", 8080, "realtime")
    assert args.artifact == model_artifact


@pytest.mark.parametrize("argv", [["--workers", "0"], ["--timeout", "0"], ["--port", "70000"]])
def test_bad_numbers_are_refused(argv, capsys):
    assert main(argv) == 2
    assert "must be at least 1" in capsys.readouterr().err


def test_a_missing_artifact_says_how_to_build_it(tmp_path, capsys):
    assert main(["--artifact", str(tmp_path / "none.tar.gz")]) == 2
    assert "build it first (make model)" in capsys.readouterr().err


def test_unknown_modes_are_refused(capsys):
    with pytest.raises(SystemExit):
        parser().parse_args(["--mode", "streaming"])
    assert "invalid choice: 'streaming'" in capsys.readouterr().err
