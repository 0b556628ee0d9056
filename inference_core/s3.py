"""Where things live in the platform's buckets, and S3 URIs.

Each model's async and batch objects live under ``<environment>/<model>/`` in the async and
batch buckets: requests under ``input/``, results under ``output/``, async failures under
``failure/``. Data capture goes to ``<environment>/<model>/<mode>/`` in the data capture bucket.
"""

from __future__ import annotations

import re

INPUT_FOLDER = "input/"
OUTPUT_FOLDER = "output/"
FAILURE_FOLDER = "failure/"
# An object key prefix: lowercase path segments, no leading, trailing or double slash.
KEY_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)*$")
# S3's error codes for an object that is not there (GetObject says NoSuchKey, HeadObject 404).
# A caller without s3:ListBucket gets AccessDenied instead, which cannot be told apart from a
# real denial: the clients need ListBucket (see inference_core.iam) and treat 403 as an error.
ABSENT_OBJECT_ERRORS = frozenset({"NoSuchKey", "404", "NotFound"})


class S3UriError(ValueError):
    """Not an ``s3://bucket/key`` URI."""


def model_prefix(environment: str, model: str) -> str:
    """``prod``, ``iris`` -> ``prod/iris`` (no trailing slash)."""
    return f"{environment}/{model}"


def data_capture_prefix(environment: str, model: str, mode: str) -> str:
    """``prod``, ``iris``, ``realtime`` -> ``prod/iris/realtime/``."""
    return f"{model_prefix(environment, model)}/{mode}/"


def split_s3_uri(uri: str) -> tuple[str, str]:
    """``s3://bucket/some/key`` -> ``("bucket", "some/key")``; the key may be empty (``s3://bucket/``)."""
    bucket, slash, key = uri.removeprefix("s3://").partition("/")
    if not uri.startswith("s3://") or not bucket or not slash:
        raise S3UriError(f"expected an s3://bucket/key URI, got {uri!r}")
    return bucket, key
