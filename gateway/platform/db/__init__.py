"""Storage: engine, tables and the one-transaction-per-request session."""
