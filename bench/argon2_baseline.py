"""Bare Argon2id verifications per second with argon2-cffi at Trustframe's parameters, on N processes.

The ROPC target is ">= 90 % of this rate": a password grant cannot be faster than the hash it checks.

    python argon2_baseline.py [--seconds 5] [--procs 2] [--m 19456] [--t 2] [--p 1]
"""

import argparse
import json
import multiprocessing
import time


def verify_loop(args: tuple) -> int:
    seconds, m, t, p = args
    from argon2 import PasswordHasher, Type

    hasher = PasswordHasher(time_cost=t, memory_cost=m, parallelism=p, type=Type.ID)
    encoded = hasher.hash("correct horse battery staple")
    count, deadline = 0, time.monotonic() + seconds
    while time.monotonic() < deadline:
        hasher.verify(encoded, "correct horse battery staple")
        count += 1
    return count


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--procs", type=int, default=2)
    parser.add_argument("--m", type=int, default=19456)
    parser.add_argument("--t", type=int, default=2)
    parser.add_argument("--p", type=int, default=1)
    args = parser.parse_args()
    with multiprocessing.get_context("fork").Pool(args.procs) as pool:
        started = time.monotonic()
        counts = pool.map(verify_loop, [(args.seconds, args.m, args.t, args.p)] * args.procs)
        elapsed = time.monotonic() - started
    from importlib.metadata import version

    print(json.dumps({
        "verifies_per_s": round(sum(counts) / args.seconds, 1),
        "ms_per_verify": round(1000 * args.seconds * args.procs / max(sum(counts), 1), 2),
        "procs": args.procs, "seconds": args.seconds, "wall_seconds": round(elapsed, 2),
        "params": {"memory_cost_kib": args.m, "time_cost": args.t, "parallelism": args.p, "type": "argon2id"},
        "argon2_cffi": version("argon2-cffi"),
    }))


if __name__ == "__main__":
    main()
