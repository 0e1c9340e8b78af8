"""The HTTP API (FastAPI): parses requests, checks keys and limits, calls :mod:`.service`,
renders JSON. Every error has one shape: ``{"ok": false, "error", "errors", "status"}``.

Routes are versioned under ``/v1``; the OpenAPI document is at ``/openapi.json``.
"""


import asyncio
import inspect
import json
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, FastAPI, Header, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from .. import __version__
from ..errors import DataError, IcpError, Problem, RateLimitError, RequestError
from .alerts import Deliverer
from .keys import Principal
from .service import PENDING_BATCH, PENDING_POLL_S, Service, jsonable
from .watch import check
from .workers import Worker

_STATUS = {"ProfileError": 422, "DataError": 422, "MissingColumnError": 422, "DuplicateKeyError": 422,
           "WorkspaceError": 503, "DependencyError": 500}


def error_body(status: int, message: str, problems: list[dict[str, str]] | None = None) -> dict[str, Any]:
    return {"ok": False, "error": message, "errors": problems or [{"where": "", "message": message, "hint": ""}],
            "status": status}


def _icp_status(exc: IcpError) -> int:
    if isinstance(exc, RequestError):
        return exc.status
    for cls in type(exc).__mro__:
        if cls.__name__ in _STATUS:
            return _STATUS[cls.__name__]
    return 400


class _BodyLimit:
    """Refuse a request body larger than ``limit`` bytes (413), by its Content-Length or
    while it streams in."""

    def __init__(self, app: Any, limit: int) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: dict[str, Any], receive: Callable[[], Awaitable[dict[str, Any]]],
                       send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = dict(scope.get("headers") or []).get(b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.limit):
            await self._refuse(send)
            return
        seen = 0
        refused = False

        async def limited() -> dict[str, Any]:
            nonlocal seen, refused
            message = await receive()
            seen += len(message.get("body", b""))
            if seen > self.limit and not refused:
                refused = True
                await self._refuse(send)
            return {"type": "http.disconnect"} if refused else message

        async def unless_refused(message: dict[str, Any]) -> None:
            if not refused:
                await send(message)

        await self.app(scope, limited, unless_refused)

    async def _refuse(self, send: Callable[[dict[str, Any]], Awaitable[None]]) -> None:
        body = json.dumps(error_body(413, f"the request body is larger than {self.limit} bytes")).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


class _Buckets:
    """A token bucket per key: ``rate`` requests a second, bursts of two seconds' worth."""

    def __init__(self, rate: float) -> None:
        self.rate, self.capacity = rate, max(1.0, 2 * rate)
        self._state: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str) -> None:
        with self._lock:
            t = time.monotonic()
            tokens, last = self._state.get(key, (self.capacity, t))
            tokens = min(self.capacity, tokens + (t - last) * self.rate)
            if tokens < 1:
                self._state[key] = (tokens, t)
                wait = (1 - tokens) / self.rate
                raise RateLimitError(f"too many requests: at most {self.rate:g} a second for a key",
                                     hint="wait and retry (see Retry-After)", retry_after_s=wait)
            self._state[key] = (tokens - 1, t)


# ------------------------------------------------------------------------------ bodies

class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ScoreBody(_Body):
    accounts: list[dict[str, Any]] = Field(description="Accounts: canonical or export field names, JSON values.")


class EventsBody(_Body):
    events: list[dict[str, Any]] = Field(description="Events: event_id, type, occurred_at, domain and/or email.")


class LeadsBody(_Body):
    leads: list[dict[str, Any]] = Field(description="Inbound people: email, name, title, company fields.")


class WebhookBody(_Body):
    url: str = Field(max_length=2000, description="Where alerts are posted (http or https).")
    kinds: list[str] = Field(description="Alert kinds: tier_upgrade, new_high_fit, buying_group_spike.",
                             max_length=10)


class ProfileBody(_Body):
    yaml: str | None = Field(None, description="The profile as YAML text.")
    profile: dict[str, Any] | None = Field(None, description="The profile as a JSON object.")

    def text(self) -> str:
        if (self.yaml is None) == (self.profile is None):
            raise DataError("send the profile as 'yaml' (text) or as 'profile' (an object), one of them",
                            where="body")
        return self.yaml if self.yaml is not None else json.dumps(self.profile)


#: ``GET /v1/health`` needs no key: its answer is read from the store at most this often.
HEALTH_TTL_S = 0.2
_YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml", "text/plain")
#: A profile is sent as YAML text (one of the YAML media types), or as JSON: ``ProfileBody``.
_PROFILE_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": ProfileBody.model_json_schema()},
    "application/yaml": {"schema": {"type": "string", "description": "The profile as YAML text."}}}}}


async def _profile_text(request: Request) -> str:
    """The profile a request carries: its YAML body, or the ``yaml`` or ``profile`` of its JSON."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if media in _YAML_TYPES:
        try:
            return raw.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise DataError("the profile is not UTF-8 text", where="body") from None
    try:
        data = json.loads(raw)
    except ValueError:
        raise DataError("the body is not JSON", where="body",
                        hint="send JSON, or YAML with Content-Type: application/yaml") from None
    if not isinstance(data, dict):
        raise DataError("the body is a JSON object with 'yaml' or 'profile'", where="body")
    try:
        body = ProfileBody.model_validate(data)
    except ValidationError as exc:
        raise DataError("the request is not valid", where="body", problems=[
            Problem(str(e.get("msg", "invalid")), ".".join(["body", *(str(p) for p in e.get("loc", ()))]))
            for e in exc.errors()]) from None
    return body.text()


def create_app(service: Service, *, deliver: bool = True) -> FastAPI:
    """The API over ``service`` (see the module docstring); with ``deliver``, a thread
    delivers the alerts' webhooks while the app runs. Calls that may wait for the store (a
    transaction of the rescoring, or of another request, holds its connection) or take long
    (a publication rescores every account) run on a thread: the event loop goes on answering
    (event batches stored this way: about 1.8x the events a second, benchmarks.md)."""
    settings = service.settings
    deliverer = Deliverer(service.store, settings) if deliver else None
    sending = Worker("icp-webhooks", deliverer.run_once, settings.webhook_poll_s,
                     join_s=settings.webhook_timeout_s + 5) if deliverer is not None else None
    rescoring = Worker("icp-rescore", lambda: service.rescore_pending(PENDING_BATCH) > 0, PENDING_POLL_S,
                       join_s=60)

    def drift_check() -> bool:
        check(service)
        return False  # one check a period

    watch = Worker("icp-drift", drift_check, settings.drift_every_s, wait_first=True) \
        if deliver and settings.drift_every_s > 0 else None
    workers = [w for w in (sending, rescoring, watch) if w is not None]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        service.on_alerts = sending.wake if sending is not None else None
        service.on_pending = rescoring.wake
        for w in workers:
            w.start()
        try:
            yield
        finally:
            service.on_alerts = service.on_pending = None
            if deliverer is not None:
                deliverer.close()
            for w in reversed(workers):
                w.stop()
            if deliverer is not None:
                deliverer.release()

    app = FastAPI(title="icpkit", version=__version__, lifespan=lifespan,
                  description="Score accounts and leads against your Ideal Customer Profile.")
    buckets = _Buckets(settings.rate_limit_per_s)

    @app.exception_handler(IcpError)
    async def _icp_error(request: Request, exc: IcpError) -> JSONResponse:
        status = _icp_status(exc)
        body = exc.as_dict() | {"status": status}
        if exc.hint and not any(p["hint"] for p in body["errors"]):
            body["errors"][0]["hint"] = exc.hint
        headers = {"Retry-After": str(max(1, round(exc.retry_after_s)))} if isinstance(exc, RateLimitError) else None
        if status == 401:
            headers = {"WWW-Authenticate": "Bearer"}
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        problems = [Problem(str(e.get("msg", "invalid")), ".".join(str(p) for p in e.get("loc", ()))).as_dict()
                    for e in exc.errors()]
        return JSONResponse(error_body(422, "the request is not valid", problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(error_body(exc.status_code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        return JSONResponse(error_body(500, "internal error"), status_code=500)

    async def principal(authorization: Annotated[str | None, Header()] = None) -> Principal:
        who = service.authenticate(authorization)
        buckets.take(who.key_id)
        return who

    def needs(scope: str) -> Callable[..., Principal]:
        async def check(who: Annotated[Principal, Depends(principal)]) -> Principal:
            who.require(scope)
            return who
        return check

    Reader = Annotated[Principal, Depends(needs("read"))]
    Writer = Annotated[Principal, Depends(needs("write"))]
    Admin = Annotated[Principal, Depends(needs("admin"))]
    IdemKey = Annotated[str | None, Header(alias="Idempotency-Key", max_length=200)]

    async def once(who: Principal, idem: str | None, request: Request, run: Callable[[], Any],
                   status: int = 200) -> Response:
        """Run a POST once per Idempotency-Key: a repeat gets the first response again, and
        runs nothing. ``run`` may return an awaitable (stored scores)."""
        what = f"{request.method} {request.url.path}?{request.url.query}"
        if idem:
            seen = service.store.replay(who.key_id, idem)
            if seen is not None:
                if seen["request"] != what:
                    raise RequestError("this Idempotency-Key was used for another request", where="Idempotency-Key")
                return Response(seen["body"], status_code=seen["status"], media_type="application/json",
                                headers={"Idempotent-Replayed": "true"})
        answer = run()
        if inspect.isawaitable(answer):
            answer = await answer
        body = json.dumps(answer, default=str)
        if idem:
            service.store.remember(who.key_id, idem, what, status, body)
        return Response(body, status_code=status, media_type="application/json")

    health_read: list[Any] = [float("-inf"), None]  # (when, the answer)
    health_lock = asyncio.Lock()

    @app.get("/v1/health")
    async def health() -> dict[str, Any]:
        """Anyone may call it, so it reads the store at most once per HEALTH_TTL_S."""
        def read() -> dict[str, Any]:
            return {"ok": True, "version": __version__, "active_profile": service.active_version(),
                    "rescore_pending": service.store.pending_count()}

        async with health_lock:
            if time.monotonic() - health_read[0] >= HEALTH_TTL_S:
                health_read[1] = await asyncio.to_thread(read)
                health_read[0] = time.monotonic()
            return health_read[1]

    @app.post("/v1/score")
    async def score(body: ScoreBody, request: Request, who: Reader, idem: IdemKey = None,
                    store: Annotated[bool, Query(description="keep the scores (needs the write scope)")] = True
                    ) -> Response:
        if store:
            who.require("write")

        async def scores() -> dict[str, Any]:  # answered once stored, without holding up other requests
            return {"results": await asyncio.wrap_future(service.score_later(body.accounts, store=store))}

        return await once(who, idem, request, scores)

    @app.post("/v1/events")
    async def events(body: EventsBody, request: Request, who: Writer, idem: IdemKey = None) -> Response:
        return await once(who, idem, request, lambda: asyncio.to_thread(service.add_events, body.events))

    @app.post("/v1/leads")
    async def leads(body: LeadsBody, who: Reader) -> dict[str, Any]:
        return {"results": await asyncio.to_thread(service.leads, body.leads)}

    @app.get("/v1/accounts")
    async def accounts(who: Reader, tier: str | None = None,
                       abm_tier: Annotated[str | None, Query(pattern="^[ABC]$")] = None, route: str | None = None,
                       min_score: Annotated[float | None, Query(ge=0, le=100)] = None,
                       max_score: Annotated[float | None, Query(ge=0, le=100)] = None,
                       changed_since: datetime | None = None,
                       cursor: Annotated[str | None, Query(max_length=300)] = None,
                       limit: Annotated[int, Query(ge=1, le=settings.page_size_max)] = 100) -> dict[str, Any]:
        try:
            since = changed_since.astimezone(UTC).replace(tzinfo=None) if changed_since and changed_since.tzinfo \
                else changed_since
        except OverflowError:
            raise RequestError("changed_since is out of the range of dates", where="changed_since") from None
        page = await asyncio.to_thread(service.accounts, tier=tier, abm_tier=abm_tier, route=route,
                                       min_score=min_score, max_score=max_score, changed_since=since, cursor=cursor,
                                       limit=limit)
        return page.to_dict()

    @app.get("/v1/accounts/{domain}")
    async def account(domain: Annotated[str, Path(max_length=300)], who: Reader) -> dict[str, Any]:
        return await asyncio.to_thread(service.account, domain)

    @app.get("/v1/profiles")
    async def profiles(who: Reader) -> dict[str, Any]:
        return service.profiles()

    @app.post("/v1/profiles", status_code=201, openapi_extra=_PROFILE_BODY)
    async def create_profile(request: Request, who: Writer, idem: IdemKey = None) -> Response:
        text = await _profile_text(request)
        return await once(who, idem, request, lambda: service.create_profile(text, who.key_id), status=201)

    @app.post("/v1/profiles/validate", openapi_extra=_PROFILE_BODY)
    async def validate_profile(request: Request, who: Reader) -> dict[str, Any]:
        profile = service.parse(await _profile_text(request))
        return {"ok": True, "name": profile.name, "hash": profile.version_hash}

    @app.get("/v1/profiles/diff")
    async def diff(who: Reader, a: Annotated[int, Query(alias="from", ge=1)],
                   b: Annotated[int, Query(alias="to", ge=1)]) -> dict[str, Any]:
        return service.diff(a, b)

    @app.get("/v1/profiles/{version}")
    async def profile(version: Annotated[int, Path(ge=1)], who: Reader) -> dict[str, Any]:
        return service.profile_info(version) | {"yaml": service.profile_source(version)}

    @app.get("/v1/profiles/{version}/preview")
    async def preview(version: Annotated[int, Path(ge=1)], who: Writer) -> dict[str, Any]:
        return (await asyncio.to_thread(service.preview, version)).to_dict()

    @app.post("/v1/profiles/{version}/publish")
    async def publish(version: Annotated[int, Path(ge=1)], request: Request, who: Admin,
                      idem: IdemKey = None) -> Response:
        return await once(who, idem, request, lambda: asyncio.to_thread(service.publish, version, who.key_id))

    @app.post("/v1/profiles/{version}/rollback")
    async def rollback(version: Annotated[int, Path(ge=1)], request: Request, who: Admin,
                       idem: IdemKey = None) -> Response:
        return await once(who, idem, request, lambda: asyncio.to_thread(service.rollback, version, who.key_id))

    @app.get("/v1/drift")
    async def drift_checks(who: Reader, limit: Annotated[int, Query(ge=1, le=1000)] = 20) -> dict[str, Any]:
        return {"checks": [{k: jsonable(c[k]) for k in ("seq", "at", "kind", "published_version", "rows", "psi",
                                                         "level")} | {"emerging": json.loads(c["emerging"])}
                           for c in service.store.checks(limit=limit)]}

    @app.post("/v1/drift/check")
    async def drift_check(who: Admin) -> dict[str, Any]:
        return await asyncio.to_thread(check, service)

    @app.get("/v1/webhooks")
    async def webhooks(who: Admin) -> dict[str, Any]:
        return {"webhooks": service.webhooks()}

    @app.post("/v1/webhooks", status_code=201)
    async def create_webhook(body: WebhookBody, request: Request, who: Admin, idem: IdemKey = None) -> Response:
        return await once(who, idem, request, lambda: service.create_webhook(body.url, body.kinds, who.key_id),
                          status=201)

    @app.delete("/v1/webhooks/{webhook_id}")
    async def delete_webhook(webhook_id: Annotated[str, Path(max_length=64)], who: Admin) -> dict[str, Any]:
        service.delete_webhook(webhook_id)
        return {"ok": True, "webhook_id": webhook_id}

    @app.get("/v1/webhooks/{webhook_id}/deliveries")
    async def deliveries(webhook_id: Annotated[str, Path(max_length=64)], who: Admin) -> dict[str, Any]:
        return {"deliveries": service.deliveries(webhook_id)}

    app.add_middleware(_BodyLimit, limit=settings.max_body_bytes)
    return app

