// The pipeline a team would write without scouter-queue, for the benchmarks that compare with
// it: the same PSI binning in JavaScript on the caller's thread, one message per 1000 rows,
// produced with kafkajs (gzip, idempotent), every send awaited at the end.
'use strict'

const { readFileSync } = require('node:fs')
const { CompressionTypes } = require('kafkajs')
const { FEATURES } = require('./profiles')

const BATCH = 1000

class HandRolledPsi {
  /** Connects a kafkajs producer and reads the bins of `profile` (a PSI profile file). */
  static async connect(kafka, profile, topic) {
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
    await producer.connect()
    return new HandRolledPsi(producer, JSON.parse(readFileSync(profile, 'utf8')), topic)
  }

  constructor(producer, spec, topic) {
    this.producer = producer
    this.topic = topic
    this.bins = FEATURES.map((f) =>
      spec.features[f].bins.map((b) => ({ id: b.id, lower: b.lower_limit === '-inf' ? -Infinity : b.lower_limit, upper: b.upper_limit === 'inf' ? Infinity : b.upper_limit })),
    )
    this.meta = { space: spec.config.space, name: spec.config.name, version: spec.config.version }
    this.counts = FEATURES.map((_, k) => Array.from({ length: this.bins[k].length }, () => 0))
    this.rows = 0
    this.sends = []
  }

  /** Bins one row (an object of the ten features); publishes every 1000 rows. */
  insert(row) {
    for (let k = 0; k < FEATURES.length; k++) {
      const x = row[FEATURES[k]]
      const fb = this.bins[k]
      for (let j = 0; j < fb.length; j++) {
        if ((x > fb[j].lower || (j === 0 && x === -Infinity)) && x <= fb[j].upper) {
          this.counts[k][j]++
          break
        }
      }
    }
    if (++this.rows === BATCH) this.#publish()
  }

  #publish() {
    const created_at = new Date().toISOString()
    const records = []
    FEATURES.forEach((feature, k) => {
      this.bins[k].forEach((bin, j) => records.push({ Psi: { created_at, ...this.meta, feature, bin_id: bin.id, bin_count: this.counts[k][j] } }))
      this.counts[k].fill(0)
    })
    this.rows = 0
    this.sends.push(this.producer.send({ topic: this.topic, compression: CompressionTypes.GZIP, messages: [{ value: JSON.stringify({ records }) }] }))
  }

  /** Publishes what is left and waits for every send. */
  async flush() {
    if (this.rows > 0) this.#publish()
    const sends = this.sends
    this.sends = []
    await Promise.all(sends)
  }

  async close() {
    await this.flush()
    await this.producer.disconnect()
  }
}

module.exports = { HandRolledPsi }
