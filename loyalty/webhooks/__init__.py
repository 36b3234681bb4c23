"""Signed webhooks (Standard Webhooks): endpoints, the outbox, delivery in order per card."""
