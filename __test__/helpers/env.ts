/** Runs a test body with some environment variables set or removed, restoring them afterwards. */
export function withEnv<T>(values: Record<string, string | undefined>, body: () => T): T {
  const saved = Object.fromEntries(Object.keys(values).map((key) => [key, process.env[key]]))
  const apply = (entries: Record<string, string | undefined>) => {
    for (const [key, value] of Object.entries(entries)) {
      if (value === undefined) delete process.env[key]
      else process.env[key] = value
    }
  }
  apply(values)
  try {
    return body()
  } finally {
    apply(saved)
  }
}
