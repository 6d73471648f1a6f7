"""Quoting what a caller sent back to it: cut short, so an error body does not grow with the input."""

ECHO_MAX = 100


def echo(value: str) -> str:
    return value if len(value) <= ECHO_MAX else value[:ECHO_MAX] + "…"
