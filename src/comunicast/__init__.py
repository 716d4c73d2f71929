"""comunicast: check, render and publish a Comune's official messages, exactly once."""

__version__ = "0.1.0"
