"""HTTP edges only: parse the request, call one service, shape the answer.
Nothing but ``gateway.app`` imports this package."""
