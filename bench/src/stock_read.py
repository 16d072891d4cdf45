# A stock consumer (confluent-kafka, librdkafka's Python binding) reading the
# given topics from their start to their high watermarks: the reference for
# `stakeflow-bench replay`'s raw read. Prints "<records> <seconds>".
import sys, time
from confluent_kafka import Consumer, TopicPartition

bootstrap, topics = sys.argv[1], sys.argv[2].split(",")
total, t0 = 0, time.monotonic()
for topic in topics:
    c = Consumer({"bootstrap.servers": bootstrap, "group.id": "stock-reference", "enable.auto.commit": False, "fetch.wait.max.ms": 50})
    parts = c.list_topics(topic, timeout=10).topics[topic].partitions
    ends, starts = {}, []
    for p in parts:
        low, high = c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
        if high > low:
            ends[p] = high
            starts.append(TopicPartition(topic, p, low))
    c.assign(starts)
    while ends:
        # A short wait: consume() returns after it, or once it has 10,000.
        for m in c.consume(10000, 0.05):
            if m.error():
                continue
            total += 1
            if m.offset() + 1 >= ends.get(m.partition(), 1 << 62):
                del ends[m.partition()]
    c.close()
print(total, time.monotonic() - t0)
