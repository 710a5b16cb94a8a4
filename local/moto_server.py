"""The local AWS emulator: moto's server mode, with DynamoDB requests serialised.

moto's DynamoDB backend is not thread-safe: concurrent TransactWriteItems on one table fail
with "dictionary changed size during iteration" (HTTP 500), which DynamoDB itself never does.
This runs the same application moto's own `python -m moto.server` runs, and lets one DynamoDB
request through at a time. Every other service stays concurrent, so SQS long polls do not
hold anything up.

moto also snapshots every table a TransactWriteItems names, whole (a deep copy per operation),
to roll back a cancelled transaction: each transaction costs time in proportion to the table's
size, so a growing local stack slows down until requests time out, which DynamoDB never does.
Here a transaction snapshots only the items it touches, and a cancelled one restores exactly
those.

Usage: python moto_server.py [-H host] [-p port]
"""

import argparse
import copy
import os
import signal
import sys
import threading

import moto.dynamodb.models as dynamodb_models
from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodb.models.table import Table
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from werkzeug.serving import run_simple


class TableSnapshotsOff:
    """The `copy` module as moto's DynamoDB backend sees it, except that while `active` (inside a
    transaction, where the items it touches are saved instead) a Table is not deep-copied."""

    active = False

    def __getattr__(self, name):
        return getattr(copy, name)

    def deepcopy(self, value, memo=None):
        if self.active and isinstance(value, Table):
            return value
        return copy.deepcopy(value, memo)


_copy = TableSnapshotsOff()
dynamodb_models.copy = _copy
_transact_write_items = DynamoDBBackend.transact_write_items


def _touched(backend, transact_items):
    """(table, hash key, range key, a copy of the item or None) for each item a transaction names."""
    saved = []
    for entry in transact_items:
        _, op = next(iter(entry.items()))
        table = backend.tables.get(op.get("TableName"))
        attrs = op.get("Key") or op.get("Item")
        if table is None or not attrs:
            continue
        try:
            hash_key, range_key = backend.get_keys_value(table, attrs)
        except Exception:
            continue  # moto refuses the transaction itself; nothing of it is written
        saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
    return saved


def _restore(saved):
    for table, hash_key, range_key, item in reversed(saved):
        if range_key is not None:
            if item is None:
                table.items[hash_key].pop(range_key, None)
            else:
                table.items[hash_key][range_key] = item
        elif item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item


def transact_write_items(self, transact_items):
    saved = _touched(self, transact_items)
    _copy.active = True
    try:
        return _transact_write_items(self, transact_items)
    except Exception:
        _restore(saved)
        raise
    finally:
        _copy.active = False


# DynamoDB requests are serialised below, so the flag is never seen by two requests at once.
DynamoDBBackend.transact_write_items = transact_write_items


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
