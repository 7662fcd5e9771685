"""The aiohttp application: the dialect's routes, the control API, and the middleware around them.

Exchange calls pass through injected latency and faults, rate limits and the request log;
control calls (/_emulator/...) only through the loopback check. Every failure leaves as the
dialect's JSON error body; nothing a client sends can crash the server.
"""

import asyncio
import contextlib
import ipaddress
import json
import logging
import time

from aiohttp import web

from emulator import control_api, errors, ratelimit
from emulator.dialect import SignedRequest
from emulator.endpoints import Call, Endpoint
from emulator.errors import MexcError
from emulator.faults import MALFORMED_MODES, FailRule
from emulator.malformed import malformed
from emulator.params import Params, parse_body, parse_query
from emulator.perp_orders import Rejection
from emulator.request_log import LoggedRequest
from emulator.state import EmulatorState

CONTROL_PREFIX = "/_emulator/"
MAX_BODY_BYTES = 1024 * 1024
TICK_SECONDS = 1.0
SHUTDOWN_TIMEOUT_S = 1.0
STATE_KEY = control_api.STATE_KEY
log = logging.getLogger(__name__)


def json_response(data: object, status: int = 200, headers: dict | None = None) -> web.Response:
    return web.Response(
        text=json.dumps(data, separators=(",", ":")),
        status=status,
        headers=headers,
        content_type="application/json",
    )


def _as_mexc_error(exc: BaseException) -> MexcError:
    if isinstance(exc, MexcError):
        return exc
    if isinstance(exc, web.HTTPNotFound):
        return errors.not_found()
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return errors.method_not_allowed()
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return errors.payload_too_large()
    if isinstance(exc, web.HTTPException):
        return MexcError(exc.status, exc.status, exc.reason)
    log.exception("unexpected error while serving a request", exc_info=exc)
    return errors.internal_error()


def _is_loopback(remote: str | None) -> bool:
    try:
        return remote is not None and ipaddress.ip_address(remote).is_loopback
    except ValueError:
        return False


def _drop_connection(request: web.Request) -> None:
    """Close the socket without answering: the client sees the connection end mid-request."""
    if request.transport is not None:
        request.transport.abort()


@web.middleware
async def emulator_middleware(request: web.Request, handler) -> web.StreamResponse:
    try:
        if request.path.startswith(CONTROL_PREFIX):
            return await _control_call(request, handler)
        return await _exchange_call(request, handler)
    finally:
        request.app[STATE_KEY].note_request(request.method)


async def _control_call(request: web.Request, handler) -> web.StreamResponse:
    if not _is_loopback(request.remote):
        return json_response({"code": 403, "msg": "control API is loopback-only"}, 403)
    try:
        return await handler(request)
    except control_api.ControlError as exc:
        return json_response({"code": exc.status, "msg": exc.msg}, exc.status)
    except Exception as exc:  # every failure leaves as a JSON body
        error = _as_mexc_error(exc)
        return json_response(error.body(), error.http_status)


def _error_response(state: EmulatorState, exc: BaseException) -> web.Response:
    """`exc` in the dialect's codes and body shape."""
    dialect = state.dialect
    error = dialect.translate(exc if isinstance(exc, Rejection) else _as_mexc_error(exc))
    body = dialect.error_body(error, state.engine.clock())
    return json_response(body, error.http_status, error.headers)


async def _exchange_call(request: web.Request, handler) -> web.StreamResponse:
    state = request.app[STATE_KEY]
    started = time.perf_counter()
    endpoint = state.dialect.endpoints.get((request.method, request.path))
    status: int | None = None
    size = 0
    try:
        if state.faults.latency_ms:
            await asyncio.sleep(state.faults.latency_ms / 1000)
        rule = state.faults.take(request.method, request.path)
        applied = ("drop_response", *MALFORMED_MODES)
        if rule is not None and rule.mode not in applied:
            await _fail(rule)
        response = await handler(request)
        if rule is not None and rule.mode in MALFORMED_MODES:
            response = malformed(response, rule.mode)
        if rule is not None and rule.mode == "drop_response":
            _drop_connection(request)
            return response
        status, size = response.status, _body_size(response)
        return response
    except Exception as exc:  # every failure leaves as the dialect's error body
        response = _error_response(state, exc)
        status, size = response.status, _body_size(response)
        return response
    finally:
        state.log.add(
            LoggedRequest(
                ts_ms=state.engine.clock(),
                duration_ms=round((time.perf_counter() - started) * 1000, 3),
                method=request.method,
                path=request.path,
                status=status,
                signed=endpoint is not None and endpoint.signed,
                symbol=request.query.get("symbol"),
                response_bytes=size,
            )
        )


def _body_size(response: web.StreamResponse) -> int:
    body = getattr(response, "body", None)
    return len(body) if isinstance(body, bytes) else 0


async def _fail(rule: FailRule) -> None:
    """Answer as the armed rule says, without applying the request."""
    if rule.mode == "http_500":
        raise errors.internal_error()
    if rule.mode == "http_429":
        raise errors.too_many_requests(1)
    if rule.mode == "order_not_found":
        raise errors.order_does_not_exist()
    await asyncio.sleep(rule.hang_ms / 1000)
    raise MexcError(504, 504, "Gateway Time-out")


def _exchange_handler(endpoint: Endpoint):
    async def handle(request: web.Request) -> web.Response:
        state = request.app[STATE_KEY]
        raw_query = request.raw_path.partition("?")[2]
        try:
            raw_body = (await request.read()).decode()
        except UnicodeDecodeError as exc:
            raise errors.invalid_parameter("request body is not UTF-8") from exc
        params = Params({**parse_body(raw_body, request.content_type), **parse_query(raw_query)})
        now = state.engine.clock()
        api_key = request.headers.get(state.dialect.api_key_header)
        if state.rate_limits:
            caller = api_key if endpoint.signed and api_key else f"ip:{request.remote}"
            cost = ratelimit.weight(request.method, request.path, "symbol" in params.values)
            retry_after = state.limiter.admit(request.method, request.path, caller, cost, now)
            if retry_after is not None:
                raise errors.too_many_requests(retry_after)
        account = None
        if endpoint.signed:
            signed = SignedRequest(request.headers, params.values, raw_query, raw_body, now)
            account = state.dialect.authenticate(state.engine.accounts, signed)
        return json_response(endpoint.handler(Call(state, params, account, now)))

    return handle


async def _price_ticker(app: web.Application):
    """Moves unfrozen markets about once a second for the app's lifetime."""
    state = app[STATE_KEY]

    async def tick_forever() -> None:
        while True:
            await asyncio.sleep(TICK_SECONDS)
            try:
                state.engine.tick()
            except Exception:
                log.exception("price tick failed")
            if state.saver is not None:
                state.saver.drifted()

    task = None if state.freeze else asyncio.create_task(tick_forever())
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _state_saving(app: web.Application):
    """With a state file: saves while serving, and a last save once serving has stopped."""
    saver = app[STATE_KEY].saver
    task = None if saver is None else asyncio.create_task(saver.run())
    yield
    if task is not None:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        saver.try_save()


def build_app(state: EmulatorState) -> web.Application:
    app = web.Application(middlewares=[emulator_middleware], client_max_size=MAX_BODY_BYTES)
    app[STATE_KEY] = state
    for (method, path), endpoint in state.dialect.endpoints.items():
        app.router.add_route(method, path, _exchange_handler(endpoint))
    app.router.add_routes(control_api.routes)
    app.cleanup_ctx.append(_state_saving)  # before the ticker: cleaned up after it
    app.cleanup_ctx.append(_price_ticker)
    return app


async def open_site(app: web.Application, host: str, port: int) -> tuple[web.AppRunner, int]:
    """Start serving `app`; returns the runner (for cleanup) and the bound port."""
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=SHUTDOWN_TIMEOUT_S)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    try:
        await site.start()
    except BaseException:
        await runner.cleanup()
        raise
    bound_port = runner.addresses[0][1]
    return runner, bound_port
