"""Unpacking an artifact into the model directory."""

from __future__ import annotations

import io
import tarfile

import pytest

from model_code.serving.artifact import ArtifactError, unpack


def tarball(path, members: dict[str, bytes], *, symlink: tuple[str, str] | None = None):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
        if symlink:
            info = tarfile.TarInfo(symlink[0])
            info.type, info.linkname = tarfile.SYMTYPE, symlink[1]
            archive.addfile(info)
    return path


def test_unpacks_the_sagemaker_layout(tmp_path):
    artifact = tarball(tmp_path / "m.tar.gz", {"model.joblib": b"m", "code/inference.py": b"x = 1\n"})
    model_dir = unpack(artifact, tmp_path / "out")
    assert (model_dir / "model.joblib").read_bytes() == b"m"
    assert (model_dir / "code" / "inference.py").read_text() == "x = 1\n"


def test_code_dir_replaces_the_packed_handler(tmp_path):
    artifact = tarball(tmp_path / "m.tar.gz", {"model.joblib": b"m", "code/inference.py": b"old\n", "code/x.py": b""})
    code = tmp_path / "edited"
    code.mkdir()
    (code / "inference.py").write_text("new\n")
    model_dir = unpack(artifact, tmp_path / "out", code_dir=code)
    assert sorted(path.name for path in (model_dir / "code").iterdir()) == ["inference.py"]
    assert (model_dir / "code" / "inference.py").read_text() == "new\n"


@pytest.mark.parametrize(
    ("members", "symlink", "message"),
    [
        ({"../escape.py": b"x"}, None, "cannot unpack"),
        ({}, ("code/link", "/etc/passwd"), "cannot unpack"),
    ],
)
def test_entries_reaching_outside_the_model_directory_are_refused(tmp_path, members, symlink, message):
    artifact = tarball(tmp_path / "m.tar.gz", members, symlink=symlink)
    with pytest.raises(ArtifactError, match=message):
        unpack(artifact, tmp_path / "out")
    assert not (tmp_path / "escape.py").exists()


def test_absolute_entries_land_inside_the_model_directory(tmp_path):
    artifact = tarball(tmp_path / "m.tar.gz", {"/tmp/evil.py": b"x"})
    model_dir = unpack(artifact, tmp_path / "out")
    assert (model_dir / "tmp" / "evil.py").read_bytes() == b"x"


def test_missing_artifact_and_code_dir_are_clear_errors(tmp_path):
    with pytest.raises(ArtifactError, match="make model"):
        unpack(tmp_path / "none.tar.gz", tmp_path / "out")
    artifact = tarball(tmp_path / "m.tar.gz", {"model.joblib": b"m"})
    with pytest.raises(ArtifactError, match=r"code directory .* not found"):
        unpack(artifact, tmp_path / "out", code_dir=tmp_path / "nowhere")


def test_a_packed_requirements_file_is_flagged_not_installed(tmp_path, caplog):
    artifact = tarball(tmp_path / "m.tar.gz", {"code/inference.py": b"", "code/requirements.txt": b"xgboost\n"})
    unpack(artifact, tmp_path / "out")
    assert "is not installed by the local server" in caplog.text
