"""Fakes for tests: loopback servers that behave like the peers the product talks to, and
in-memory doubles of the core's interfaces (``doubles.py``: a scripted provider, a recording host)."""
