"""The fake provider: Provider HTTP contract v1 served by aiohttp, and a ledger of what it paid."""

from __future__ import annotations

import asyncio
import json
import math
import random
import re
import secrets
import threading
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from aiohttp import web

DECLINE_CODES = {
    "insufficient_funds": "The payout account does not hold enough funds for this payout.",
    "account_closed": "The recipient's account is closed.",
    "invalid_account": "The recipient's details do not name an account that can be paid.",
    "limit_exceeded": "The payout exceeds a limit on the recipient's account.",
}
IN_PROGRESS = {
    "status": "in_progress",
    "message": "An earlier request with this Idempotency-Key is still in progress.",
}
# The outcomes that decide nothing: the totals they count in, the status, the body, and whether
# Retry-After goes with them.
REFUSALS: dict[str, tuple[str, int, dict[str, str], bool]] = {
    "rejected": (
        "rejected", 400,
        {"status": "rejected", "code": "account_blocked", "message": "The account is blocked."},
        False,
    ),
    "forbidden": (
        "rejected", 403,
        {"status": "rejected", "code": "forbidden", "message": "This payout is not allowed."},
        False,
    ),
    "conflict": ("conflicts", 409, IN_PROGRESS, False),
    "rate_limited": (
        "errors", 429,
        {"status": "error", "code": "rate_limited", "message": "Too many requests."},
        True,
    ),
    "error": (
        "errors", 503,
        {"status": "error", "message": "The provider is unavailable; try again later."},
        True,
    ),
    "error500": ("errors", 500, {"status": "error", "message": "The provider failed."}, False),
}  # fmt: skip
SCRIPT_STEPS = {
    "paid", "declined", "timeout", "drop", "drop_unpaid", *REFUSALS,
    *(f"declined:{code}" for code in DECLINE_CODES),
}  # fmt: skip
TOTALS = (
    "requests", "paid", "declined", "errors", "timeouts", "drops", "conflicts", "rejected",
    "replays",
)  # fmt: skip
AMOUNT = re.compile(r"[0-9]+(\.[0-9]+)?")
CURRENCY = re.compile(r"[A-Z]{3}")
# Thousands of clients may connect at once; the default of 128 would drop SYNs and stall them.
BACKLOG = 4096


@dataclass(frozen=True)
class Config:
    latency: float = 0.0
    decline_rate: float = 0.0
    error_rate: float = 0.0
    timeout_rate: float = 0.0
    drop_rate: float = 0.0
    hang_seconds: float = 60.0
    retry_after: int = 1
    token: str | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        rates = (self.decline_rate, self.error_rate, self.timeout_rate, self.drop_rate)
        if not all(0 <= rate <= 1 for rate in rates):
            raise ValueError("Each rate must be between 0 and 1.")
        # fsum: 0.1 + 0.2 + 0.3 + 0.4 is 1.0000000000000002 added left to right.
        if math.fsum(rates) > 1:
            raise ValueError(f"The rates add up to {math.fsum(rates):g}; they must not exceed 1.")
        if min(self.latency, self.hang_seconds, self.retry_after) < 0:
            raise ValueError("Latency, hang seconds and Retry-After must not be negative.")


class InvalidRequest(Exception):
    pass


@dataclass(frozen=True)
class Payout:
    amount: str
    currency: str
    recipient: dict[str, Any]
    script: tuple[str, ...]

    @property
    def terms(self) -> tuple[Decimal, str, dict[str, Any]]:
        return Decimal(self.amount), self.currency, self.recipient


@dataclass
class Key:
    payout: Payout
    requests: int = 0
    repeats: int = 0
    paid_count: int = 0
    attempts: int = 0
    in_flight: bool = False
    decision: tuple[int, dict[str, str]] | None = None


@dataclass
class Provider:
    config: Config
    rng: random.Random
    keys: dict[str, Key] = field(default_factory=dict)
    totals: Counter[str] = field(default_factory=Counter)


PROVIDER = web.AppKey("provider", Provider)


def parse_payout(key: str, body: bytes) -> Payout:
    if not key:
        raise InvalidRequest("The Idempotency-Key header is required.")
    try:
        data = json.loads(body)
    except ValueError:
        raise InvalidRequest("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The body must be a JSON object.")
    if data.get("payout_id") != key:
        raise InvalidRequest("payout_id must be a string equal to the Idempotency-Key header.")
    amount = data.get("amount")
    if not (isinstance(amount, str) and AMOUNT.fullmatch(amount) and Decimal(amount) > 0):
        raise InvalidRequest('amount must be a string holding a positive decimal, like "12.50".')
    currency = data.get("currency")
    if not (isinstance(currency, str) and CURRENCY.fullmatch(currency)):
        raise InvalidRequest("currency must be three uppercase letters.")
    recipient = data.get("recipient")
    if not isinstance(recipient, dict):
        raise InvalidRequest("recipient must be an object.")
    attempt = data.get("attempt")
    if type(attempt) is not int or attempt < 1:
        raise InvalidRequest("attempt must be an integer of at least 1.")
    return Payout(amount, currency, recipient, parse_script(recipient.get("account_number")))


def parse_script(account: object) -> tuple[str, ...]:
    if not (isinstance(account, str) and account.startswith("fake:")):
        return ()
    script = tuple(account.removeprefix("fake:").split(","))
    for step in script:
        if step not in SCRIPT_STEPS:
            raise InvalidRequest(f"Unknown fake: script word {step!r}.")
    return script


def reply(
    provider: Provider,
    tally: str,
    status: int,
    body: dict[str, str],
    headers: dict[str, str] | None = None,
) -> web.Response:
    provider.totals[tally] += 1
    return web.json_response(body, status=status, headers=headers)


def refuse(provider: Provider, code: str, message: str, status: int = 400) -> web.Response:
    body = {"status": "rejected", "code": code, "message": message}
    return reply(provider, "rejected", status, body)


def hang_up(request: web.Request) -> web.Response:
    if request.transport is not None:
        request.transport.close()
    # aiohttp finds the transport closing and sends nothing of this response.
    return web.Response()


async def post_payout(request: web.Request) -> web.Response:
    provider = request.app[PROVIDER]
    config = provider.config
    provider.totals["requests"] += 1
    if config.token and request.headers.get("Authorization") != f"Bearer {config.token}":
        return refuse(provider, "unauthorized", "A valid bearer token is required.", 401)
    key = request.headers.get("Idempotency-Key", "")
    try:
        if request.content_type != "application/json":
            raise InvalidRequest("The Content-Type must be application/json.")
        payout = parse_payout(key, await request.read())
    except InvalidRequest as invalid:
        return refuse(provider, "invalid_request", str(invalid))
    entry = provider.keys.setdefault(key, Key(payout))
    entry.requests += 1
    if entry.decision is not None:
        entry.repeats += 1
    if payout.terms != entry.payout.terms:
        message = "The Idempotency-Key was first used with another amount, currency or recipient."
        return refuse(provider, "idempotency_key_reused", message)
    if entry.decision is not None:
        status, body = entry.decision
        replayed = {"Idempotent-Replayed": "true"}
        return reply(provider, "replays", 200 if status == 201 else status, body, replayed)
    if entry.in_flight:
        return reply(provider, "conflicts", 409, IN_PROGRESS)
    # Nothing awaits between the check above and this line, so one request per key gets here.
    entry.in_flight = True
    try:
        await asyncio.sleep(config.latency)
        return await decide(request, provider, entry, next_outcome(provider, entry))
    finally:
        entry.in_flight = False


def next_outcome(provider: Provider, entry: Key) -> str:
    entry.attempts += 1
    script = entry.payout.script
    if script:
        return script[min(entry.attempts, len(script)) - 1]
    config = provider.config
    draw = provider.rng.random()
    for outcome, rate in (
        ("error", config.error_rate),
        ("timeout", config.timeout_rate),
        ("declined", config.decline_rate),
        ("drop", config.drop_rate),
    ):
        if draw < rate:
            if outcome == "declined":
                return f"declined:{provider.rng.choice(sorted(DECLINE_CODES))}"
            return outcome
        draw -= rate
    return "paid"


async def decide(
    request: web.Request, provider: Provider, entry: Key, outcome: str
) -> web.Response:
    word, _, code = outcome.partition(":")
    if word in ("paid", "drop"):
        paid = {"status": "paid", "provider_reference": f"fp_{secrets.token_hex(12)}"}
        entry.decision = (201, paid)
        entry.paid_count += 1
        provider.totals["paid"] += 1
        if word == "drop":
            provider.totals["drops"] += 1
            return hang_up(request)
        return web.json_response(paid, status=201)
    if word == "declined":
        code = code or "insufficient_funds"
        declined = {"status": "declined", "code": code, "message": DECLINE_CODES[code]}
        entry.decision = (422, declined)
        return reply(provider, "declined", 422, declined)
    if word == "timeout":
        provider.totals["timeouts"] += 1
        await asyncio.sleep(provider.config.hang_seconds)
        return hang_up(request)
    if word == "drop_unpaid":
        provider.totals["drops"] += 1
        return hang_up(request)
    tally, status, body, retry = REFUSALS[word]
    headers = {"Retry-After": str(provider.config.retry_after)} if retry else None
    return reply(provider, tally, status, body, headers)


async def get_ledger(request: web.Request) -> web.Response:
    provider = request.app[PROVIDER]
    payouts, undecided = {}, {}
    for key, entry in provider.keys.items():
        if entry.decision is None:
            undecided[key] = {"requests": entry.requests}
            continue
        body = entry.decision[1]
        payouts[key] = {
            "status": body["status"],
            "provider_reference": body.get("provider_reference"),
            "code": body.get("code"),
            "amount": entry.payout.amount,
            "currency": entry.payout.currency,
            "requests": entry.requests,
            "repeats": entry.repeats,
            "paid_count": entry.paid_count,
        }
    totals = {name: provider.totals[name] for name in TOTALS}
    return web.json_response({"payouts": payouts, "undecided": undecided, "totals": totals})


async def delete_ledger(request: web.Request) -> web.Response:
    provider = request.app[PROVIDER]
    provider.keys.clear()
    provider.totals.clear()
    return await get_ledger(request)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


@web.middleware
async def json_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    try:
        return await handler(request)
    except (web.HTTPNotFound, web.HTTPMethodNotAllowed) as error:
        code = "not_found" if error.status == 404 else "method_not_allowed"
        message = f"There is no {request.method} {request.path} here."
        body = {"status": "rejected", "code": code, "message": message}
        allow = {"Allow": error.headers["Allow"]} if "Allow" in error.headers else None
        return web.json_response(body, status=error.status, headers=allow)


def make_app(config: Config) -> web.Application:
    app = web.Application(middlewares=[json_errors])
    app[PROVIDER] = Provider(config, random.Random(config.seed))
    app.router.add_post("/payouts", post_payout)
    app.router.add_get("/ledger", get_ledger)
    app.router.add_delete("/ledger", delete_ledger)
    app.router.add_get("/healthz", healthz)
    return app


async def listen(config: Config, host: str, port: int) -> tuple[web.AppRunner, str]:
    """Serve on host:port (0 picks a free port); returns the runner and the base URL."""
    # A request hanging out a timeout would otherwise hold shutdown for minutes.
    runner = web.AppRunner(make_app(config), access_log=None, shutdown_timeout=1)
    await runner.setup()
    await web.TCPSite(runner, host, port, backlog=BACKLOG).start()
    bound_host, bound_port = runner.addresses[0][:2]
    shown = f"[{bound_host}]" if ":" in bound_host else bound_host
    return runner, f"http://{shown}:{bound_port}"


def start_in_thread(config: Config, host: str = "127.0.0.1") -> tuple[str, Callable[[], None]]:
    """Serve on a free port from one thread with its own event loop; returns the URL and a stop."""
    loop = asyncio.new_event_loop()
    runner, url = loop.run_until_complete(listen(config, host, 0))
    thread = threading.Thread(target=loop.run_forever, name="fake-provider", daemon=True)
    thread.start()

    def stop() -> None:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result()
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()

    return url, stop
