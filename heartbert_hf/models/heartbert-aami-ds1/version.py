"""The package version (read statically by setuptools; stamped into saved configs)."""

__version__ = "0.1.0"
