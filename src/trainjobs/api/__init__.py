"""The HTTP layer: ModelArts wire format in and out, nothing else."""
