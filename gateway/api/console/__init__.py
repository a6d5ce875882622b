"""The privacy officers' console at ``/console``: server-rendered pages over the processing log,
for officer accounts (``wijkgateway officers add``). Every page view is itself logged."""
