"""Local stubs of the Razorpay and Stripe HTTP APIs, for tests without the internet.

Each stub is a small ASGI app speaking the subset of endpoints admitone calls, with the
request and response shapes the providers document, served on a loopback port by
:class:`StubServer`; the SDKs reach it through their own base-URL settings. The stubs also
sign webhooks exactly as the providers do, so verification runs through the SDKs' own code.
"""
