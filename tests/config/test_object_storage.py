"""Stored files on S3-compatible object storage, chosen by the environment (DJANGO_S3_*)."""

from __future__ import annotations

from tests.config.test_production import production_env, run_client

_DESCRIBE = """
from django.core.files.storage import default_storage as s
from evaluations.storage import free_bytes
s._setup()
w = s._wrapped
print(json.dumps({
    "class": f"{type(w).__module__}.{type(w).__name__}",
    "options": {k: getattr(w, k, None) for k in (
        "bucket_name", "endpoint_url", "region_name", "access_key", "secret_key",
        "location", "addressing_style", "default_acl", "file_overwrite",
        "querystring_auth", "querystring_expire",
    )},
    "free_bytes": free_bytes(),
}))
"""


def test_the_bucket_its_endpoint_and_keys_come_from_the_environment(tmp_path):
    env = production_env(
        tmp_path,
        DJANGO_S3_BUCKET="perfeval-files",
        DJANGO_S3_ENDPOINT_URL="https://oss.example.org",
        DJANGO_S3_REGION="cn-north-1",
        DJANGO_S3_ACCESS_KEY_ID="AKIDEXAMPLE",
        DJANGO_S3_SECRET_ACCESS_KEY="secret-example",
        DJANGO_S3_PREFIX="perfeval",
        DJANGO_S3_ADDRESSING_STYLE="path",
    )
    got = run_client(_DESCRIBE, env)
    assert got["class"] == "storages.backends.s3.S3Storage"
    assert got["options"] == {
        "bucket_name": "perfeval-files",
        "endpoint_url": "https://oss.example.org",
        "region_name": "cn-north-1",
        "access_key": "AKIDEXAMPLE",
        "secret_key": "secret-example",
        "location": "perfeval",
        "addressing_style": "path",
        # Private objects: no ACL is sent (the bucket's own policy), no URL without a signature.
        "default_acl": None,
        # A second "通知.pdf" gets a name of its own instead of replacing another year's.
        "file_overwrite": False,
        "querystring_auth": True,
        "querystring_expire": 300,
    }
    # No disk of ours to fill: /healthz?detail=1 has nothing to watch.
    assert got["free_bytes"] is None


def test_without_a_bucket_files_stay_in_media_root_on_this_machine(tmp_path):
    got = run_client(_DESCRIBE, production_env(tmp_path))
    assert got["class"] == "common.storage.WholeFileSystemStorage"
    assert got["free_bytes"] > 0
