"""Names the API and the CLI agree on, kept apart from the service (no database imports)."""

# Names of the CLI's own short-lived tokens (cli/client.py): cli:<local user>. Reserved:
# a token with such a name is audited as that user, so nobody else may create one.
CLI_TOKEN_PREFIX = "cli:"
