"""The names an installation starts with: its first project and the domain users
belong to unless told otherwise. Kept apart from ``accounts`` so that the CLI
can name them in its options without loading the database layer."""

DEFAULT_PROJECT = "default"
DEFAULT_DOMAIN = "default"
