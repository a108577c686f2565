"""Agent Registry: a governed registry for AI-agent assets, run on Temporal."""

__version__ = "0.1.0"
