"""OAuth2 client credentials (authlib): token endpoint, client registry, bearer checks."""
