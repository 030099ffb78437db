"""Tests of the session store: format, recovery, operations, and real crashing processes."""
