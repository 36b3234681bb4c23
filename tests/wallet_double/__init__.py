"""A local stand-in for Google's Wallet Objects API and OAuth token endpoint (tests only)."""
