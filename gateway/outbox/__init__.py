"""Transactional outbox: messages written with the change, delivered by ``wijkgateway worker``."""
