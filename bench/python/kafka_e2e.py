"""End-to-end Kafka throughput of the Python original (scouter-ml):

    python kafka_e2e.py PSI_PROFILE ROWS BROKERS TOPIC

Inserts ROWS rows of ten float features into a PSI queue whose transport is Kafka, then shuts
down (the original's flush). Prints JSON with the seconds from the first insert until shutdown
returned; the caller consumes and counts the records.
"""

import json
import sys
import time
from pathlib import Path

from scouter.queue import Feature, Features, KafkaConfig, ScouterQueue

profile, rows, brokers, topic = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
names = [f"feature_{i}" for i in range(10)]
values = [(i % 97) / 9.7 for i in range(1024)]

queues = ScouterQueue.from_path({"psi": Path(profile)}, KafkaConfig(brokers=brokers, topic=topic))
psi = queues["psi"]
start = time.perf_counter()
for i in range(rows):
    psi.insert(Features(features=[Feature.float(names[k], values[(i + k) & 1023]) for k in range(10)]))
queues.shutdown()
print(json.dumps({"seconds": time.perf_counter() - start}))
