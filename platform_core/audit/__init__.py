"""The audit log: an append-only record of what staff (and the CLI) did, and who tried to log in."""
