"""samordning — quarterly financial follow-up of cooperation agreements."""

__version__ = "0.1.0"
