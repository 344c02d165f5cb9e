"""Random secrets that leave the system (API keys, partner tokens, postback keys).

Only a SHA-256 of each secret is stored: the secrets are 256-bit random strings, so a fast
hash is enough and lookups stay cheap. The first characters (the prefix) are stored in clear
to find the row without revealing the secret.
"""

import hashlib
import hmac
import secrets
from typing import NamedTuple

PREFIX_LENGTH = 8


class IssuedSecret(NamedTuple):
    secret: str  # shown once, never stored
    prefix: str
    digest: str


def issue_secret() -> IssuedSecret:
    secret = secrets.token_urlsafe(32)
    return IssuedSecret(secret=secret, prefix=secret[:PREFIX_LENGTH], digest=hash_secret(secret))


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def secret_matches(secret: str, digest: str) -> bool:
    return bool(digest) and hmac.compare_digest(hash_secret(secret), digest)
