"""code-console: a promotional code inventory on MongoDB and S3, with a terminal console."""

__version__ = "0.1.0"
