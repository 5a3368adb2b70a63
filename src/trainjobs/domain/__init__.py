"""Domain rules of training jobs and versions; knows nothing of HTTP."""
