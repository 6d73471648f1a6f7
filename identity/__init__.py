"""Trustframe: a self-hosted identity provider speaking Azure AD B2C's token protocol."""
