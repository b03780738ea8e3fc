/** Tick labels for a time axis: clock time for a day or less, day and time beyond. */
export function timeLabel(locale: string, spanMs: number): (ms: number) => string {
  const f =
    spanMs > 36 * 3_600_000
      ? new Intl.DateTimeFormat(locale, { weekday: 'short', hour: '2-digit', minute: '2-digit' })
      : new Intl.DateTimeFormat(locale, { hour: '2-digit', minute: '2-digit' })
  return (ms) => f.format(new Date(ms))
}
