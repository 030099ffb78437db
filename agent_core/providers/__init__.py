"""LLM providers: one neutral event stream out of each wire format."""
