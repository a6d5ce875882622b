"""``keys``: the token signing key."""

from __future__ import annotations

import typer

from gateway.cli._common import fail, settings

app = typer.Typer(help="Token signing key.", no_args_is_help=True)


@app.command("generate")
def keys_generate() -> None:
    """Create the token signing key at WIJKGATEWAY_SIGNING_KEY_PATH (never overwrites)."""
    from gateway.auth.keys import generate_signing_key

    path = settings().signing_key_path
    if path.exists():
        fail(f"{path} exists; move it away first to rotate")
    key = generate_signing_key(path)
    typer.echo(f"wrote {path} (kid {key.kid})")
