"""One log line for a client's mistake, never a traceback.

Django logs a refused Host header (`django.security.DisallowedHost`, any SuspiciousOperation) and a body
it will not decode (`django.request`, BadRequest) with the exception's traceback: a scanner sending bad
Host headers fills the log with tracebacks of code that worked as intended, and hides what matters. For
every record Django marks with a status below 500 (its `status_code` extra), this filter drops the
traceback and writes one line: the logger, the reason, the path (escaped and truncated, as every part of
it is the client's). Server errors (5xx) keep their traceback.
"""

import logging

REASON_MAX = 300
PATH_MAX = 200


def _clip(text: str, limit: int) -> str:
    """The client's text made one safe line: control characters and non-ASCII escaped, then cut."""
    escaped = text.encode("unicode_escape").decode("ascii")
    return escaped if len(escaped) <= limit else escaped[:limit] + "…"


class ClientErrorOneLine(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        status = getattr(record, "status_code", None)
        if not isinstance(status, int) or status >= 500 or not record.exc_info:
            return True  # a server error, or already one line of Django's ("Not Found: /path", escaped)
        reason = str(record.exc_info[1])
        path = getattr(getattr(record, "request", None), "path", "")
        record.msg, record.args = "%s: %s (path %s)", (record.name, _clip(reason, REASON_MAX), _clip(path, PATH_MAX))
        record.exc_info = record.exc_text = record.stack_info = None
        return True
