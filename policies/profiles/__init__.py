"""Technical-profile handlers, one module per kind (B2C Protocol / profile family)."""
