"""trainjobs: a self-hosted training-job service with the ModelArts v1 training API."""

__version__ = "0.1.0"
