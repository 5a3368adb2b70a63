"""S3's errors: each condition a class carrying S3's code and HTTP status."""

from __future__ import annotations


class S3Error(Exception):
    code = "InternalError"
    status = 500

    def __init__(self, message: str, resource: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.resource = resource


class AccessDenied(S3Error):
    code, status = "AccessDenied", 403


class InvalidAccessKeyId(S3Error):
    code, status = "InvalidAccessKeyId", 403


class SignatureDoesNotMatch(S3Error):
    code, status = "SignatureDoesNotMatch", 403


class RequestTimeTooSkewed(S3Error):
    code, status = "RequestTimeTooSkewed", 403


class AuthorizationHeaderMalformed(S3Error):
    code, status = "AuthorizationHeaderMalformed", 400


class AuthorizationQueryParametersError(S3Error):
    code, status = "AuthorizationQueryParametersError", 400


class InvalidRequest(S3Error):
    code, status = "InvalidRequest", 400


class InvalidArgument(S3Error):
    code, status = "InvalidArgument", 400


class InvalidURI(S3Error):
    code, status = "InvalidURI", 400


class MalformedXML(S3Error):
    code, status = "MalformedXML", 400


class KeyTooLong(S3Error):
    code, status = "KeyTooLongError", 400


class InvalidBucketName(S3Error):
    code, status = "InvalidBucketName", 400


class NoSuchBucket(S3Error):
    code, status = "NoSuchBucket", 404


class NoSuchKey(S3Error):
    code, status = "NoSuchKey", 404


class NoSuchUpload(S3Error):
    code, status = "NoSuchUpload", 404


class InvalidPart(S3Error):
    code, status = "InvalidPart", 400


class InvalidPartOrder(S3Error):
    code, status = "InvalidPartOrder", 400


class EntityTooSmall(S3Error):
    code, status = "EntityTooSmall", 400


class EntityTooLarge(S3Error):
    code, status = "EntityTooLarge", 400


class IncompleteBody(S3Error):
    code, status = "IncompleteBody", 400


class BadDigest(S3Error):
    code, status = "XAmzContentSHA256Mismatch", 400


class InvalidRange(S3Error):
    code, status = "InvalidRange", 416


class BucketNotEmpty(S3Error):
    code, status = "BucketNotEmpty", 409


class BucketAlreadyOwnedByYou(S3Error):
    code, status = "BucketAlreadyOwnedByYou", 409


class MethodNotAllowed(S3Error):
    code, status = "MethodNotAllowed", 405


class NotImplementedHere(S3Error):
    code, status = "NotImplemented", 501


class SlowDown(S3Error):
    code, status = "SlowDown", 503


class ServiceUnavailable(S3Error):
    code, status = "ServiceUnavailable", 503
