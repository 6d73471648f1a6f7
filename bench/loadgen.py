"""Fallback load generator when wrk is not installed: asyncio over raw HTTP/1.1, T processes.

Prints the same "BENCHJSON {...}" line as bench/wrk/common.lua. Slower than wrk (the generator eats
more of the 2 cores), so its numbers are comparable only with other loadgen.py numbers.

    python loadgen.py --url http://127.0.0.1:8100 --connections 8 --threads 2 --duration 10 \
        --method POST --path /token --body 'a=b' [--header 'Authorization: Basic ...']
    refresh: --tokens-file FILE --offset N --body-prefix 'grant_type=refresh_token&...&refresh_token='
"""

import argparse
import asyncio
import json
import multiprocessing
import time
from urllib.parse import quote_plus, urlsplit


def build(method, host, path, headers, body):
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    data = body.encode() if body is not None else b""
    if body is not None:
        lines += ["Content-Type: application/x-www-form-urlencoded", f"Content-Length: {len(data)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + data


async def one_connection(args, state, deadline, next_request):
    host, port = state["host"], state["port"]
    reader = writer = None
    while time.monotonic() < deadline:
        request = next_request()
        if request is None:
            state["exhausted"] = 1
            return
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(host, port)
            started = time.perf_counter()
            writer.write(request)
            status_line = await asyncio.wait_for(reader.readline(), args.timeout)
            if not status_line:
                raise ConnectionError("closed")
            status = int(status_line.split()[1])
            length, close, chunked = 0, False, False
            while True:
                line = await reader.readline()
                if line in (b"\r\n", b"\n", b""):
                    break
                name, _, value = line.decode("latin-1").partition(":")
                name, value = name.strip().lower(), value.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "connection" and value == "close":
                    close = True
                elif name == "transfer-encoding" and "chunked" in value:
                    chunked = True
            if chunked:
                body = b""
                while True:
                    size = int((await reader.readline()).strip(), 16)
                    chunk = await reader.readexactly(size + 2)
                    if size == 0:
                        break
                    body += chunk[:-2]
            else:
                body = await reader.readexactly(length) if length else b""
            elapsed_us = int((time.perf_counter() - started) * 1e6)
            if time.monotonic() <= deadline:
                state["latencies"].append(elapsed_us)
                state["requests"] += 1
                state["bytes"] += len(body)
                if not 200 <= status <= 299:
                    state["non2xx"] += 1
                    state["statuses"][str(status)] = state["statuses"].get(str(status), 0) + 1
                    if not state["sample"]:
                        state["sample"] = body[:240].decode("utf-8", "replace")
            if close:
                writer.close()
                writer = None
        except TimeoutError:
            state["timeout"] += 1
            writer = None
        except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError, IndexError):
            state["read"] += 1
            writer = None
    if writer is not None:
        writer.close()


def worker(params):
    args, index, connections = params
    url = urlsplit(args.url)
    state = {"host": url.hostname, "port": url.port or 80, "latencies": [], "requests": 0, "bytes": 0,
             "non2xx": 0, "statuses": {}, "sample": "", "timeout": 0, "read": 0, "exhausted": 0,
             "issued": 0, "maxidx": -1}
    host = f"{url.hostname}:{url.port}" if url.port else url.hostname
    headers = dict(h.split(":", 1) for h in args.header)
    headers = {k.strip(): v.strip() for k, v in headers.items()}
    if args.tokens_file:
        with open(args.tokens_file) as handle:
            lines = handle.read().splitlines()
        mine = [(i, t) for i, t in enumerate(lines) if i >= args.offset and (i - args.offset) % args.threads == index]
        iterator = iter(mine)

        def next_request():
            item = next(iterator, None)
            if item is None:
                return None
            state["issued"] += 1
            state["maxidx"] = max(state["maxidx"], item[0])
            return build("POST", host, args.path, headers, args.body_prefix + quote_plus(item[1]))
    else:
        fixed = build(args.method, host, args.path, headers, None if args.body == "-" else args.body)

        def next_request():
            state["issued"] += 1
            return fixed

    async def run():
        deadline = time.monotonic() + args.duration
        await asyncio.gather(*(one_connection(args, state, deadline, next_request) for _ in range(connections)))

    asyncio.run(run())
    return state


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--timeout", type=float, default=30)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--path", default="/")
    parser.add_argument("--body", default="-")
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--tokens-file")
    parser.add_argument("--offset", type=int, default=0)
    parser.add_argument("--body-prefix", default="")
    args = parser.parse_args()
    threads = max(1, min(args.threads, args.connections))
    args.threads = threads
    shares = [args.connections // threads + (1 if i < args.connections % threads else 0) for i in range(threads)]
    started = time.monotonic()
    with multiprocessing.get_context("fork").Pool(threads) as pool:
        states = pool.map(worker, [(args, i, n) for i, n in enumerate(shares)])
    duration_us = int((time.monotonic() - started) * 1e6)
    latencies = sorted(x for s in states for x in s["latencies"])

    def pct(p):
        return latencies[min(len(latencies) - 1, int(len(latencies) * p / 100))] if latencies else 0

    statuses = {}
    for s in states:
        for k, v in s["statuses"].items():
            statuses[k] = statuses.get(k, 0) + v
    out = {
        "requests": sum(s["requests"] for s in states), "duration_us": min(duration_us, int(args.duration * 1e6)),
        "bytes": sum(s["bytes"] for s in states), "non2xx": sum(s["non2xx"] for s in states),
        "issued": sum(s["issued"] for s in states), "maxidx": max(s["maxidx"] for s in states),
        "exhausted": sum(s["exhausted"] for s in states), "p50_us": pct(50), "p90_us": pct(90), "p99_us": pct(99),
        "max_us": latencies[-1] if latencies else 0,
        "mean_us": round(sum(latencies) / len(latencies), 1) if latencies else 0,
        "errors": {"connect": 0, "read": sum(s["read"] for s in states), "write": 0,
                   "status": sum(v for k, v in statuses.items() if int(k) > 399),
                   "timeout": sum(s["timeout"] for s in states)},
        "statuses": statuses, "sample": next((s["sample"] for s in states if s["sample"]), ""),
    }
    print("BENCHJSON " + json.dumps(out))


if __name__ == "__main__":
    main()
