"""Stub of ``mlio.integ``."""
