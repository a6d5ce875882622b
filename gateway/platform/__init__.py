"""The bottom layer: database, settings, logging, metrics, errors, the
request context and the unit of work. Imports nothing else of gateway."""
