"""tierline: an LLM routing sidecar for coding agents (import package ``sidecar``)."""

__version__ = "0.1.0"
