"""Argument mining for immigration-enforcement op-eds."""

__version__ = "0.1.0"
