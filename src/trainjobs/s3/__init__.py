"""The S3-compatible object endpoint: the object store served over HTTP (path-style).

``app.py`` routes requests, ``auth.py`` verifies AWS Signature Version 4,
``objects.py`` reads and writes a project's namespace of the store,
``listing.py`` pages keys in order, ``wire.py`` holds S3's XML and
``errors.py`` S3's error codes.
"""
