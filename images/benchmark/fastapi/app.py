"""The reference point of the benchmark: the same routes in FastAPI on Uvicorn (uvloop, httptools).

Bodies are rendered once at import, like the Node servers do, so the comparison measures the
frameworks and runtimes, not JSON encoding. Like the web API, /metrics counts requests by route
and status and keeps a latency histogram by route (prometheus_client, in a plain ASGI middleware,
the cheapest way FastAPI offers); REQUEST_METRICS=off drops that per-request work, which the
benchmark runs as a second, faster reference.
"""
import asyncio
import json
import os
import sys
from time import perf_counter

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Histogram, generate_latest

VARIANT = os.environ.get("VARIANT", "fastapi")
HEAVY_BYTES = 500 * 1024
JSON_TYPE = "application/json"


def compact(value) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def heavy_body() -> bytes:
    items, size = [], len(compact({"variant": VARIANT, "kind": "heavy", "items": [], "padding": ""}))
    while True:
        i = len(items)
        item = {"id": i, "name": f"item-{i:06d}", "value": (i % 1000) / 8, "tags": ["alpha", "beta"]}
        extra = len(compact(item)) + (1 if items else 0)
        if size + extra > HEAVY_BYTES:
            break
        items.append(item)
        size += extra
    return compact({"variant": VARIANT, "kind": "heavy", "items": items, "padding": "x" * (HEAVY_BYTES - size)})


ROOT = compact({"service": "optivolt-webapi-fastapi", "variant": VARIANT})
LIGHT = compact({"status": "ok", "variant": VARIANT, "kind": "light", "items": [1, 2, 3]})
HEAVY = heavy_body()
HEALTH = compact({"status": "ok", "variant": VARIANT})



def env_choice(name: str, default: str, choices: tuple) -> str:
    value = os.environ.get(name, default)
    if value not in choices:
        sys.exit(f"{name} must be one of {', '.join(choices)}, got {value!r}")
    return value


def env_buckets(name: str) -> tuple:
    """Latency buckets in seconds, comma-separated (the benchmark passes the web API's own)."""
    raw = os.environ.get(name)
    if raw is None:
        return Histogram.DEFAULT_BUCKETS
    try:
        return tuple(float(part) for part in raw.split(","))
    except ValueError:
        sys.exit(f"{name} must be comma-separated numbers of seconds, got {raw!r}")


REQUEST_METRICS = env_choice("REQUEST_METRICS", "on", ("on", "off")) == "on"
LATENCY_BUCKETS = env_buckets("LATENCY_BUCKETS")

# Only the web API's routes: no /docs, /redoc or /openapi.json.
app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)


@app.get("/")
async def root():
    return Response(ROOT, media_type=JSON_TYPE)


@app.get("/api/light")
async def light():
    return Response(LIGHT, media_type=JSON_TYPE)


@app.get("/api/heavy")
async def heavy():
    return Response(HEAVY, media_type=JSON_TYPE)


@app.get("/api/slow")
async def slow(ms: int = Query(1000, ge=0, le=10000)):
    await asyncio.sleep(ms / 1000)
    return JSONResponse({"status": "ok", "variant": VARIANT, "kind": "slow", "delayMs": ms})


@app.get("/health")
async def health():
    return Response(HEALTH, media_type=JSON_TYPE)


@app.get("/metrics")
async def metrics():
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)


class RequestMetrics:
    """Counts every answer by route and status and observes its latency, as the web API does."""

    def __init__(self, app, routes: frozenset):
        self.app = app
        self.routes = routes
        self.requests = Counter("http_requests_total", "HTTP requests answered, by route and status code", ["route", "status", "variant"])
        self.latency = Histogram(
            "http_request_duration_seconds", "Time from request to response handed to the socket, by route", ["route", "variant"], buckets=LATENCY_BUCKETS
        )

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = perf_counter()
        route = scope["path"] if scope["path"] in self.routes else "unmatched"
        status = 500

        async def send_and_note_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_and_note_status)
        finally:
            self.requests.labels(route, str(status), VARIANT).inc()
            self.latency.labels(route, VARIANT).observe(perf_counter() - started)


if REQUEST_METRICS:
    app.add_middleware(RequestMetrics, routes=frozenset(route.path for route in app.routes))
