"""Runs inputs through the real Python Scouter client, for the differential test.

    python run_client.py SPEC.json RESULT.json

Run with the interpreter of one of the project's virtual environments (`scripts/python-clients.sh`
makes `.venv/scouter-0.9.0` and `.venv/scouter-0.25.0`); the installed `scouter-ml` decides which
client runs. SPEC is a JSON file:

    {"runs": [{
        "name": "http-v0.9",
        "transport": {"kind": "http", "server_uri": "http://127.0.0.1:PORT",
                      "username": "admin", "password": "admin"}
                   | {"kind": "redis", "address": "redis://127.0.0.1:6379", "channel": "..."},
        "profiles": {"alias": "/path/to/profile.json", ...},
        "inserts": [
            {"alias": "spc", "features": [{"name": "feature_0", "type": "float", "value": 1.5}, ...]},
            {"alias": "custom", "metrics": [{"name": "mae", "value": 1.2}, ...]},
            {"alias": "llm", "llm": {"context": {...}, "prompt": null}},                  (v0.9)
            {"alias": "genai", "eval": {"context": {...}, "id": "r1", "session_id": "s1",
                                        "trace_id": "0123...", "tags": [["k", "v"]]}}     (0.25)
        ]
    }, ...]}

A feature's "type" is "int", "float", "string" or "categorical" (the `Feature.<type>` builder) or
"auto" (`Feature(name, value)`, which infers it). A float value may be the string "NaN",
"Infinity" or "-Infinity". An "eval" field that is absent is not passed (the client's default).

Every run builds one ScouterQueue with all its profiles, inserts everything in order, waits a
second (see `run`), then shuts the queue down, so that partial batches are published where the original publishes them (it
does not for SPC: see `__test__/differential.spec.ts`). Writes RESULT.json (not stdout, where
the extension logs): the client's version and, per run, how long each phase took. Any failure
exits non-zero with the reason on stderr.
"""

import json
import math
import os
import sys
import time
from importlib.metadata import version as installed_version
from pathlib import Path

VERSION = installed_version("scouter-ml")
MODERN = tuple(int(part) for part in VERSION.split(".")[:2]) >= (0, 14)

if MODERN:
    from scouter.queue import EvalRecord, Feature, Features, Metric, Metrics, ScouterQueue
    from scouter.transport import HttpConfig, RedisConfig

    LLMRecord = None
else:
    from scouter.client import HTTPConfig as HttpConfig
    from scouter.queue import Feature, Features, LLMRecord, Metric, Metrics, RedisConfig, ScouterQueue

    EvalRecord = None

SPECIAL_FLOATS = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
# How long the original's event task is given to work through the backlog before `shutdown()`
# (see `run`), scaled like the tests' own waits by SCOUTER_TEST_SLOWDOWN (__test__/helpers/
# slowdown.ts): under emulation the test server it posts to answers many times slower. At most
# 15 s: the original's PSI and Custom queues publish on their own every 30 s from the queue's
# start, and a settle that reached that timer would make it publish batches that the oracle (and
# a native run) never sees.
SETTLE_S = min(1.0 * float(os.environ.get("SCOUTER_TEST_SLOWDOWN") or 1), 15.0)


def number(value):
    """A JSON number, or one of the strings that stand for NaN and the infinities."""
    if isinstance(value, str):
        return SPECIAL_FLOATS[value]
    return value


def feature(spec):
    name, kind, value = spec["name"], spec["type"], spec["value"]
    if kind == "int":
        return Feature.int(name, int(value))
    if kind == "float":
        return Feature.float(name, float(number(value)))
    if kind == "string":
        return Feature.string(name, value)
    if kind == "categorical":
        return Feature.categorical(name, value)
    if kind == "auto":
        return Feature(name, value if isinstance(value, str) and value not in SPECIAL_FLOATS else number(value))
    raise ValueError(f"unknown feature type {kind!r}")


def item(insert):
    if "features" in insert:
        return Features([feature(f) for f in insert["features"]])
    if "metrics" in insert:
        return Metrics([Metric(m["name"], number(m["value"])) for m in insert["metrics"]])
    if "llm" in insert:
        if LLMRecord is None:
            raise ValueError(f"scouter-ml {VERSION} has no LLMRecord")
        spec = insert["llm"]
        return LLMRecord(context=spec["context"], prompt=spec.get("prompt"))
    if "eval" in insert:
        if EvalRecord is None:
            raise ValueError(f"scouter-ml {VERSION} has no EvalRecord")
        spec = insert["eval"]
        kwargs = {key: spec[key] for key in ("id", "session_id", "trace_id") if key in spec}
        record = EvalRecord(context=spec["context"], **kwargs)
        for key, value in spec.get("tags", []):
            record.add_tag(key, value)
        return record
    raise ValueError(f"unknown insert {sorted(insert)}")


def transport(spec):
    if spec["kind"] == "http":
        return HttpConfig(server_uri=spec["server_uri"], username=spec["username"], password=spec["password"])
    if spec["kind"] == "redis":
        # The stubs of both versions spell this keyword `chanel`; the extension takes `channel`.
        return RedisConfig(address=spec["address"], channel=spec["channel"])
    raise ValueError(f"unknown transport {spec['kind']!r}")


def run(spec):
    began = time.monotonic()
    paths = {alias: Path(path) for alias, path in spec["profiles"].items()}
    if MODERN:
        queue = ScouterQueue.from_path(paths, transport(spec["transport"]), wait_for_startup=True)
    else:
        queue = ScouterQueue.from_path(paths, transport(spec["transport"]))
    started = time.monotonic()
    # Items are built first, then inserted: building an LLM/GenAI record stamps its created_at.
    items = [(insert["alias"], item(insert)) for insert in spec["inserts"]]
    for alias, built in items:
        queue[alias].insert(built)
    inserted = time.monotonic()
    # `insert` only hands the item to the queue's event task, which aggregates and publishes the
    # full batches on its own time. Its shutdown grants the task 250 ms (0.9.0) before aborting
    # it: let it work through the backlog first, so that the grace is left for the last batch.
    time.sleep(SETTLE_S)
    queue.shutdown()
    ended = time.monotonic()
    return {
        "name": spec["name"],
        "inserts": len(items),
        "start_s": round(started - began, 3),
        "insert_s": round(inserted - started, 3),
        "shutdown_s": round(ended - inserted - SETTLE_S, 3),
    }


def main():
    spec = json.loads(Path(sys.argv[1]).read_text())
    results = [run(r) for r in spec["runs"]]
    Path(sys.argv[2]).write_text(json.dumps({"version": VERSION, "runs": results}))


if __name__ == "__main__":
    main()
