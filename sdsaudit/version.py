"""The version of sdsaudit, in one place (the package, reports and JSON outputs read it)."""

__version__ = "0.1.0"
