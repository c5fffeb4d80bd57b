"""Exceptions a user can cause. The CLI prints their message on one line and exits non-zero."""

from __future__ import annotations


class PipelineError(Exception):
    """Base class for errors caused by input, configuration or environment, not by a bug."""


class InputError(PipelineError):
    """An input file or folder cannot be read or does not follow the codebook format."""


class ConfigError(PipelineError):
    """A configuration file is malformed or holds an unknown key or a bad value."""


class ModelError(PipelineError):
    """A model directory or URI is missing, incomplete or incompatible."""
