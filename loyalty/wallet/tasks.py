"""Google Wallet sync tasks (filled in by the wallet work)."""
