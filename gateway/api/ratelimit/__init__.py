"""Rate limits counted in the gateway's own database (``limits`` fixed windows): per client
and per address on the API and ``/oauth/token``, and failed console logins per account and
address. See ``docs/operations.md``."""
