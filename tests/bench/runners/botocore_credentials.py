"""The per-process peer for Python: what a Python tool does with botocore's instance-metadata
provider to print the same ``credential_process`` JSON as ``imds credentials``. The endpoint is
``AWS_EC2_METADATA_SERVICE_ENDPOINT``, also passed in code (``base_url``)."""

import json
import os
import sys

from botocore.credentials import InstanceMetadataProvider
from botocore.utils import InstanceMetadataFetcher

endpoint = os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT", "")
if not endpoint.startswith(("http://127.0.0.1:", "http://[::1]:")):
    sys.exit("botocore_credentials: AWS_EC2_METADATA_SERVICE_ENDPOINT must be a loopback URL")
fetcher = InstanceMetadataFetcher(timeout=1, num_attempts=1, base_url=endpoint)
credentials = InstanceMetadataProvider(iam_role_fetcher=fetcher).load()
if credentials is None:
    sys.exit("botocore_credentials: no credentials")
frozen = credentials.get_frozen_credentials()
expiry = getattr(credentials, "_expiry_time", None)  # botocore has no public accessor
print(json.dumps({
    "Version": 1,
    "AccessKeyId": frozen.access_key,
    "SecretAccessKey": frozen.secret_key,
    "SessionToken": frozen.token,
    "Expiration": expiry.strftime("%Y-%m-%dT%H:%M:%SZ") if expiry else None,
}, separators=(",", ":")))
