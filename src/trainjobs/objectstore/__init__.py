"""Object storage for OBS-style paths, backed by fsspec."""

from trainjobs.objectstore.paths import ObsPath, parse_obs_path
from trainjobs.objectstore.store import ObjectStore

__all__ = ["ObjectStore", "ObsPath", "parse_obs_path"]
