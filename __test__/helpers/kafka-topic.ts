/**
 * Reading a Kafka topic back in full, for the fault suites that count every id the broker kept.
 */
import { Kafka, logLevel } from 'kafkajs'

import type { ServerRecords } from '../../ts/index'
import { uniqueName } from './brokers'
import { sleep, until } from './faults'

/** Reads the whole of `topic` (every message up to the high watermark of each partition). */
export async function readTopic(brokers: string, topic: string): Promise<{ documents: ServerRecords[]; highWatermark: number }> {
  const kafka = new Kafka({ clientId: 'scouter-queue-faults', brokers: [brokers], logLevel: logLevel.NOTHING })
  const admin = kafka.admin()
  await admin.connect()
  const offsets = await admin.fetchTopicOffsets(topic).finally(() => admin.disconnect())
  const highWatermark = offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0)
  const consumer = kafka.consumer({ groupId: uniqueName('faults_group') })
  await consumer.connect()
  try {
    await consumer.subscribe({ topic, fromBeginning: true })
    const documents: ServerRecords[] = []
    await consumer.run({
      eachMessage: async ({ message }) => {
        documents.push(JSON.parse(message.value!.toString('utf8')) as ServerRecords)
      },
    })
    await until(`${highWatermark} messages of ${topic}`, () => documents.length >= highWatermark, 90_000)
    await sleep(500) // nothing past the high watermark may show up; give it the chance to
    return { documents, highWatermark }
  } finally {
    await consumer.disconnect()
  }
}
