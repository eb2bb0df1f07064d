"""Insert cost of the Python original (scouter-ml), measured like bench/insert.js.

    python insert.py PSI_PROFILE CUSTOM_PROFILE ROWS ROUNDS

Builds the same rows from the same values (ten float features into a PSI queue; three metrics
into a Custom queue) and calls `queue[alias].insert(...)`, through scouter's MockConfig transport.
Prints one JSON object: median ns per row for each case, and start-up/shutdown times.
"""

import importlib.metadata
import json
import statistics
import sys
import time
from pathlib import Path

import scouter
from scouter.mock import MockConfig
from scouter.queue import Feature, Features, Metric, Metrics, ScouterQueue

psi_profile, custom_profile, rows, rounds = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
names = [f"feature_{i}" for i in range(10)]
values = [(i % 97) / 9.7 for i in range(1024)]


def measure(body):
    results = []
    for round_ in range(rounds + 1):  # one warm-up round
        start = time.perf_counter_ns()
        for i in range(rows):
            body(i)
        if round_ > 0:
            results.append((time.perf_counter_ns() - start) / rows)
    return statistics.median(results)


started = time.perf_counter()
queues = ScouterQueue.from_path({"psi": Path(psi_profile), "custom": Path(custom_profile)}, MockConfig())
startup_s = time.perf_counter() - started
psi, custom = queues["psi"], queues["custom"]


def psi_row(i):
    psi.insert(Features(features=[Feature.float(names[k], values[(i + k) & 1023]) for k in range(10)]))


def custom_set(i):
    custom.insert(Metrics([Metric("mae", values[i & 1023]), Metric("mape", values[(i + 1) & 1023]), Metric("rmse", values[(i + 2) & 1023])]))


result = {
    "implementation": f"scouter-ml {importlib.metadata.version('scouter-ml')} (Python {sys.version.split()[0]})",
    "psiInsertNs": measure(psi_row),
    "customInsertNs": measure(custom_set),
    "startupSeconds": startup_s,
}
started = time.perf_counter()
queues.shutdown()
result["shutdownSeconds"] = time.perf_counter() - started
print(json.dumps(result))
