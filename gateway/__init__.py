"""wijkgateway: the message gateway between neighbourhood-team registration systems."""
