"""The local AWS emulator: moto's server mode, with DynamoDB requests serialised.

moto's DynamoDB backend is not thread-safe: concurrent TransactWriteItems on one table fail
with "dictionary changed size during iteration" (HTTP 500), which DynamoDB itself never does.
This runs the same application moto's own `python -m moto.server` runs, and lets one DynamoDB
request through at a time. Every other service stays concurrent, so SQS long polls do not
hold anything up.

Usage: python moto_server.py [-H host] [-p port]
"""

import argparse
import os
import signal
import sys
import threading

from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


class SerialDynamoDB:
    """WSGI middleware: DynamoDB requests one at a time, the rest as they come."""

    def __init__(self, app):
        self.app = app
        self.lock = threading.Lock()

    def __call__(self, environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith("DynamoDB"):
            with self.lock:
                return list(self.app(environ, start_response))
        return self.app(environ, start_response)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("-H", "--host", default="127.0.0.1")
    parser.add_argument("-p", "--port", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("MOTO_PORT", str(args.port))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    app = DomainDispatcherApplication(create_backend_app)
    run_simple(args.host, args.port, SerialDynamoDB(app), threaded=True)


if __name__ == "__main__":
    main()
