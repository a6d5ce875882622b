#!/bin/sh
# Creates the gateway's two keys inside the image, each only when it is missing, so running it
# again (every `docker compose up`) keeps them: rotating a key is a deliberate act (move the
# file away first; docs/deployment.md).
#   - the token signing key (EC P-256 JWK) at WIJKGATEWAY_SIGNING_KEY_PATH;
#   - the processing log's checkpoint key (Ed25519) at WIJKGATEWAY_AUDIT_SIGNING_KEY_PATH; its
#     verifier key, printed here, is what witnesses need.
# The image sets both paths (Dockerfile); the settings (secret key, public base URL) come from
# the environment as for every other command.
set -eu
if [ -e "$WIJKGATEWAY_SIGNING_KEY_PATH" ]; then
    echo "token signing key: $WIJKGATEWAY_SIGNING_KEY_PATH exists, kept"
else
    wijkgateway keys generate
fi
if [ -e "$WIJKGATEWAY_AUDIT_SIGNING_KEY_PATH" ]; then
    echo "checkpoint key: $WIJKGATEWAY_AUDIT_SIGNING_KEY_PATH exists, kept; its verifier key:"
    wijkgateway audit key
else
    wijkgateway audit key --generate
fi
