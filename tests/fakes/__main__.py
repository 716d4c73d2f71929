"""Run one fake standalone: `python tests/fakes waha [--port N] [--delay S] [--option value]`.

Prints the base URL on the first line of stdout, then serves until SIGINT/SIGTERM; on exit
prints a JSON summary (requests, deliveries, duplicates, problems) on stdout.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path

if __package__ in (None, ""):  # run as `python tests/fakes`: make the package importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fakes import FakeTelegram, FakeWaha, FakeWebhook


def main(argv: list[str] | None = None) -> int:
    """Start the chosen fake and wait for a signal."""
    parser = argparse.ArgumentParser(prog="python tests/fakes")
    parser.add_argument("platform", choices=["waha", "telegram", "webhook"])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--api-key", default="waha-test-key")
    parser.add_argument("--token", default="123456789:AAFakeTokenFakeTokenFakeTokenFake00")
    parser.add_argument("--secret", default="webhook-test-secret-0123456789")
    args = parser.parse_args(argv)
    if args.platform == "waha":
        fake = FakeWaha(api_key=args.api_key, delay=args.delay, port=args.port)
    elif args.platform == "telegram":
        fake = FakeTelegram(token=args.token, delay=args.delay, port=args.port)
    else:
        fake = FakeWebhook(secret=args.secret, delay=args.delay, port=args.port)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    with fake:
        print(fake.url, flush=True)
        done.wait()
        summary = {
            "requests": len(fake.requests),
            "delivered": fake.delivered,
            "duplicates": fake.duplicates(),
            "problems": fake.problems,
        }
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
