"""The processing log (verwerkingenlogging): append-only, hash-chained, pseudonymised."""
