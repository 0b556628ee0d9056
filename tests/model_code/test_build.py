from __future__ import annotations

import hashlib
import tarfile

from model_code.build import build


def test_artifact_layout_is_what_the_framework_container_loads(model_artifact):
    with tarfile.open(model_artifact) as archive:
        assert sorted(archive.getnames()) == ["code/inference.py", "model.joblib"]
        for member in archive.getmembers():
            assert member.mtime == 0 and member.uid == 0 and member.uname == ""


def test_two_builds_are_byte_identical(tmp_path):
    first, second = tmp_path / "a.tar.gz", tmp_path / "b.tar.gz"
    digest = build(first)
    assert build(second) == digest
    assert hashlib.sha256(first.read_bytes()).hexdigest() == digest
    assert first.read_bytes() == second.read_bytes()


def test_scikit_learn_matches_the_serving_image():
    import sklearn

    from inference_constructs.framework_images import FRAMEWORKS

    # Image 1.4-2 carries scikit-learn 1.4.2; a pickle from another version may not load.
    assert sklearn.__version__ == "1.4.2"
    assert "1.4-2" in FRAMEWORKS["sklearn"].versions
