"""The S3 layout and URIs every producer and consumer shares."""

from __future__ import annotations

import pytest

from inference_core.s3 import KEY_PREFIX, S3UriError, data_capture_prefix, model_prefix, split_s3_uri


def test_s3_uris_are_split():
    assert split_s3_uri("s3://bucket/dev/iris/input/") == ("bucket", "dev/iris/input/")
    assert split_s3_uri("s3://bucket/a/b.csv") == ("bucket", "a/b.csv")
    assert split_s3_uri("s3://bucket/") == ("bucket", "")


@pytest.mark.parametrize("bad", ["https://bucket/key", "bucket/a.csv", "s3://bucket", "s3:///key", "s3://", ""])
def test_anything_else_is_refused_with_the_uri_named(bad):
    with pytest.raises(S3UriError, match=f"expected an s3://bucket/key URI, got {bad!r}"):
        split_s3_uri(bad)


def test_layout():
    assert model_prefix("prod", "iris") == "prod/iris"
    assert data_capture_prefix("prod", "iris", "realtime") == "prod/iris/realtime/"
    assert KEY_PREFIX.fullmatch("prod/iris")
    for bad in ("/prod/iris", "prod/iris/", "prod//iris", "Prod/iris"):
        assert not KEY_PREFIX.fullmatch(bad)
