"""The ModelArts v1 training API."""
