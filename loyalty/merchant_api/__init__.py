"""The merchant integration API under ``/api/v1/merchant/``: API keys, idempotent POSTs."""
