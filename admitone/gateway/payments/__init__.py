"""Payments: the providers' webhooks (api), their pay and return pages, the sandbox's pages."""
