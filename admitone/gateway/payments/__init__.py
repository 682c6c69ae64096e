"""Payments: the provider's webhook and the sandbox provider's pages."""
