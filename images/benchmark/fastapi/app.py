"""The reference point of the benchmark: the same routes in FastAPI on Uvicorn (uvloop, httptools).

Bodies are rendered once at import, like the Node servers do, so the comparison measures the
frameworks and runtimes, not JSON encoding. No per-request metrics middleware (it would only slow
this side down); /metrics serves prometheus_client's process metrics.
"""
import asyncio
import json
import os

from fastapi import FastAPI, Query
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

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

app = FastAPI()


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
