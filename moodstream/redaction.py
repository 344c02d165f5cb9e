"""Secrets out of the logs: the values of `key` and `token` query parameters become REDACTED.

Partners' postback URLs carry their key (`/postback/<code>?key=…`) and links may carry tokens;
the request line is what both gunicorn's access log and Django's request loggers write. Used by
moodstream/gunicorn.conf.py (the access-log class) and the LOGGING settings (a filter on
django.request and django.server). Pure Python: gunicorn's master imports it before Django.
"""

import logging
import re

from gunicorn.glogging import Logger as GunicornLogger

REDACTED = "REDACTED"
# A parameter named key or token (any case), in a request line, a query string or a Referer, up to the next
# separator or the end of the request line's URL.
_SECRET_PARAMETER = re.compile(r"((?:^|[?&;])(?:key|token)=)[^&;#\s\"']*", re.IGNORECASE)


def redact(text: str) -> str:
    """`text` with the value of every key= / token= query parameter replaced by REDACTED."""
    if "=" not in text:
        return text
    return _SECRET_PARAMETER.sub(rf"\g<1>{REDACTED}", text)


class RedactSecretsFilter(logging.Filter):
    """A logging filter: the formatted message with key / token query values redacted."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, ()
        return True


class RedactingAccessLogger(GunicornLogger):
    """gunicorn's logger, with every access-log atom (request line, query, referer, …) redacted."""

    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        for name, value in atoms.items():
            if isinstance(value, str) and "=" in value:
                atoms[name] = redact(value)
        return atoms
