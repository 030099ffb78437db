"""Fakes for tests: real loopback servers that behave like the peers the product talks to."""
