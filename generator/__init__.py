"""paper-digest: a static site generator for daily paper digests."""

__version__ = "0.1.0"
