"""Console sessions: a cookie holding an identity token, and the CSRF token bound to it.

The cookie carries the same token ``/v3/auth/tokens`` issues (or the default
project's token from credentials.json), so a session lives exactly as long as
its token and a revoked token ends it at once. The CSRF token is a digest of
the session token: a page of another site can neither read the HttpOnly
cookie nor derive it, and no server-side session state is needed, so every
server of a shared database accepts it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import parse_qs, quote

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from trainjobs.domain import errors
from trainjobs.domain.clock import now_ms
from trainjobs.domain.identity import IdentityService, TokenInfo

COOKIE = "tj_session"
PRE_COOKIE = "tj_signin"  # CSRF for the sign-in form itself, before any session
# "s": the console issued the token at sign-in and revokes it at sign-out;
# "k": a token the user pasted (credentials.json's), which signing out must not revoke.
ISSUED, PASTED = "s", "k"
CSRF_FIELD = "csrf"
CSRF_HEADER = "x-csrf-token"
MAX_FORM_BYTES = 256 << 10


class SignInRequired(Exception):
    """No session, or one whose token expired or was revoked."""

    def __init__(self, reason: str = "") -> None:
        super().__init__(reason)
        self.reason = reason


class CsrfRefused(Exception):
    """A state-changing request without the session's CSRF token."""


@dataclass(frozen=True)
class Session:
    token: str
    kind: str
    info: TokenInfo

    @property
    def project_id(self) -> str:
        return self.info.project.id

    @property
    def who(self) -> str:
        user = self.info.user
        return f"{user.name} ({user.domain})" if user else "project token"

    @property
    def csrf(self) -> str:
        return csrf_of(self.token)


def csrf_of(token: str) -> str:
    return hashlib.sha256(b"trainjobs-console-csrf\0" + token.encode()).hexdigest()[:40]


def identity_of(request: Request) -> IdentityService:
    service: IdentityService = request.app.state.services.identity
    return service


def _cookie_value(request: Request) -> tuple[str, str]:
    raw = request.cookies.get(COOKIE, "")
    kind, _, token = raw.partition(":")
    if kind not in (ISSUED, PASTED) or not token:
        return "", ""
    return kind, token


async def current(request: Request) -> Session:
    """A route dependency: the signed-in session, or SignInRequired."""
    kind, token = _cookie_value(request)
    if not token:
        raise SignInRequired()
    try:
        info = await run_in_threadpool(identity_of(request).token_info, token, token)
    except (errors.MissingToken, errors.InvalidToken, errors.ExpiredToken, errors.NotFound):
        raise SignInRequired("Your session has ended; sign in again.") from None
    return Session(token, kind, info)


async def form_of(request: Request) -> dict[str, str]:
    """The urlencoded body, first value of each field (the API middleware relabels every
    body as JSON, so the console parses its forms itself)."""
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise errors.InvalidParameter("the form is too large")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise errors.InvalidParameter("the form is not UTF-8") from None
    fields = parse_qs(text, keep_blank_values=True, max_num_fields=2000)
    return {key: values[0] for key, values in fields.items()}


def check_csrf(request: Request, session: Session, form: dict[str, str]) -> None:
    sent = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD, "")
    if not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise CsrfRefused()


def new_sign_in_nonce() -> str:
    return secrets.token_urlsafe(24)


def check_sign_in_nonce(request: Request, form: dict[str, str]) -> None:
    expected = request.cookies.get(PRE_COOKIE, "")
    sent = form.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfRefused()


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_nonce_cookie(request: Request, response: Response, nonce: str) -> None:
    response.set_cookie(
        PRE_COOKIE,
        nonce,
        max_age=3600,
        path="/console",
        httponly=True,
        samesite="strict",
        secure=_secure(request),
    )


def start(request: Request, response: Response, token: str, kind: str, expires_at_ms: int) -> None:
    """Set the session cookie; it expires with its token (a browser session when the
    token never expires)."""
    max_age = None
    if expires_at_ms:
        max_age = max(1, (expires_at_ms - now_ms()) // 1000)
    response.set_cookie(
        COOKIE,
        f"{kind}:{token}",
        max_age=max_age,
        # "/": TensorBoard pages proxied under /tensorboard/ are let in by it too; the
        # API reads no cookies, so it opens no way around the CSRF checks there.
        path="/",
        httponly=True,
        samesite="lax",
        secure=_secure(request),
    )
    response.delete_cookie(PRE_COOKIE, path="/console")


def end(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/")


def safe_next(target: str) -> str:
    """A page of the console to return to after sign-in; anything else goes to the jobs."""
    if (
        target.startswith("/console/")
        and not target.startswith("//")
        and "\\" not in target
        and "\n" not in target
        and "\r" not in target
        and not target.startswith("/console/sign-")
    ):
        return target
    return "/console/jobs"


def sign_in_url(request: Request) -> str:
    """The sign-in page, remembering the page asked for."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return f"/console/sign-in?next={quote(safe_next(here), safe='')}"
