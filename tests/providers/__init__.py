"""Tests of the providers, SSE reading, error classification, retry and provider selection."""
