"""moxing for trainjobs runs: ModelArts' file API over an S3-compatible endpoint.

``import moxing as mox`` then ``mox.file.copy_parallel(src, dst)``; the same
functions are ``moxing.framework.file``. ``obs://bucket/key`` and
``s3://bucket/key`` name objects of the run's project, reached through
``S3_ENDPOINT`` with the access key in ``ACCESS_KEY_ID`` / ``SECRET_ACCESS_KEY``
(or ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY``); other paths are local
files. Only the file API is provided: ``moxing.tensorflow``, ``moxing.mxnet``
and ``moxing.pytorch`` say so when imported.
"""

from __future__ import annotations

from .framework import file

__version__ = "2.0.0+trainjobs"
__all__ = ["file"]
