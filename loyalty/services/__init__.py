"""Loyalty domain services: typed functions that add and flush, never commit."""
