"""Start-up and shutdown latency of the Python original (scouter-ml), measured like
bench/lifecycle.js:

    python lifecycle.py SPC PSI CUSTOM LLM BROKERS TOPIC RUNS

Each run opens the four profiles with a KafkaConfig (`ScouterQueue.from_path`), inserts one item
into each queue and shuts down. Prints one JSON object with the seconds of each step per run.
"""

import importlib.metadata
import json
import sys
import time
from pathlib import Path

from scouter.queue import Feature, Features, KafkaConfig, LLMRecord, Metric, Metrics, ScouterQueue

spc, psi, custom, llm, brokers, topic, runs = sys.argv[1:8]
paths = {"spc": Path(spc), "psi": Path(psi), "custom": Path(custom), "llm": Path(llm)}
startup, shutdown = [], []
for _ in range(int(runs)):
    started = time.perf_counter()
    queues = ScouterQueue.from_path(paths, KafkaConfig(brokers=brokers, topic=topic))
    startup.append(time.perf_counter() - started)
    row = Features(features=[Feature.float("feature_0", 1.0), Feature.float("feature_1", 2.0)])
    queues["spc"].insert(row)
    queues["psi"].insert(row)
    queues["custom"].insert(Metrics([Metric("mae", 1.0)]))
    queues["llm"].insert(LLMRecord(context={"input": "hi", "response": "hello"}))
    started = time.perf_counter()
    queues.shutdown()
    shutdown.append(time.perf_counter() - started)

print(json.dumps({
    "implementation": f"scouter-ml {importlib.metadata.version('scouter-ml')} (Python {sys.version.split()[0]})",
    "startupSeconds": startup,
    "shutdownSeconds": shutdown,
}))
