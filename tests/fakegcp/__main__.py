"""`python -m fakegcp --port N [--latency-ms 50]`: serve a fresh FakeGCP until killed."""

from __future__ import annotations

import argparse
import sys

from fakegcp.fake import FakeGCP
from fakegcp.server import FakeGCPServer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m fakegcp", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--latency-ms", type=float, default=0.0, help="delay added to every API call")
    args = parser.parse_args(argv)
    fake = FakeGCP()
    if args.latency_ms:
        fake.faults.latency(args.latency_ms / 1000.0)
    server = FakeGCPServer(fake, args.host, args.port)
    url = server.start()
    print(url, flush=True)
    try:
        assert server._thread is not None
        server._thread.join()
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
