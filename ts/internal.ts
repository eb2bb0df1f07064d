/**
 * Symbols for the methods `ScouterQueue` calls on its `Queue`s, kept off the public API.
 * @internal
 */

/** Hands the JS-side buffer to the native queue now. */
export const drain = Symbol('scouter-queue.drain')
/** Refuses further inserts. */
export const close = Symbol('scouter-queue.close')

/** The plain object a `Features` was made from by `Features.fromObject`, read by the encoder. */
export const featureValues = Symbol('scouter-queue.featureValues')
