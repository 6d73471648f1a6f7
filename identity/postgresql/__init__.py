"""Django's PostgreSQL backend with a health check that usually costs no round trip and the token
grants' hot statements prepared (see base.py)."""
