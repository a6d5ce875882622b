"""Outbox messages to webhooks: decided again, sent, and the outcome
recorded (the outbox is the queue; disclosure decides)."""
