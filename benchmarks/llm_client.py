"""Throughput of ChatClient.chat_many: concurrent versus serial, against the local fake server.

Remote endpoints are latency-bound (hundreds of ms per request, little client
CPU), so the concurrency limit is what sets an audit's speed. This measures
requests/s for concurrency 1 and N against `FakeOpenAIServer` with a fixed
per-reply latency, without and with injected transient faults (429/500/503/
malformed/empty/dropped; real backoff sleeps, shortened), and prints the
speed-up. A cached rerun is timed as well (no requests at all).

Run: ``python benchmarks/llm_client.py`` (about 15 s; ``--latency`` and
``--requests`` to change the workload).
"""

from __future__ import annotations

import argparse
import tempfile
import time

from actionbias.llm import ChatClient, FakeOpenAIServer, user_message

FAULTS = ("429", "500", "503", "malformed", "empty", "drop")


def run(server: FakeOpenAIServer, n: int, concurrency: int, cache_dir=None) -> tuple[float, dict]:
    client = ChatClient(
        server.url,
        "fake-model",
        api_key_env=None,
        concurrency=concurrency,
        max_retries=10,
        timeout=5.0,
        backoff=(0.01, 0.1),
        jitter_seed=0,
        cache_dir=cache_dir,
    )
    prompts = [[user_message(f"question {i} (c={concurrency})")] for i in range(n)]
    start = time.perf_counter()
    results = client.chat_many(prompts)
    elapsed = time.perf_counter() - start
    assert [r.text for r in results] == [p[0]["content"] for p in prompts]
    client.close()
    return n / elapsed, client.stats.to_dict()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=64)
    parser.add_argument("--latency", type=float, default=0.05, help="seconds per reply")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--fault-rate", type=float, default=0.3)
    args = parser.parse_args()

    print(f"{args.requests} requests, {args.latency * 1000:.0f} ms server latency per reply")
    print(f"{'faults':>8} {'concurrency':>11} {'req/s':>8} {'requests sent':>13} {'retries':>8}")
    for rate in (0.0, args.fault_rate):
        speeds = {}
        for concurrency in (1, args.concurrency):
            with FakeOpenAIServer(
                fault_rate=rate, faults=FAULTS, seed=0, latency=args.latency, retry_after=0.02
            ) as server:
                speed, stats = run(server, args.requests, concurrency)
            speeds[concurrency] = speed
            print(
                f"{rate:>8.0%} {concurrency:>11d} {speed:>8.1f} {stats['requests']:>13d} "
                f"{stats['total_retries']:>8d}"
            )
        print(f"  speed-up x{speeds[args.concurrency] / speeds[1]:.2f} at {rate:.0%} faults")

    with FakeOpenAIServer(latency=args.latency) as server, tempfile.TemporaryDirectory() as tmp:
        cold, _ = run(server, args.requests, args.concurrency, cache_dir=tmp)
        warm, stats = run(server, args.requests, args.concurrency, cache_dir=tmp)
        print(
            f"cache: cold {cold:.1f} req/s, rerun {warm:.1f} calls/s "
            f"({stats['requests']} requests sent, {stats['cache_hits']} hits)"
        )


if __name__ == "__main__":
    main()
