/**
 * The audible alarm of a failing part: three short tones through Web Audio, loud enough to be
 * heard over a line. Browsers start an AudioContext suspended until a user gesture; the station
 * page has had one (starting the station), and `resume()` is asked for every time.
 */
export function soundAlarm(): void {
  const Ctx = globalThis.AudioContext ?? (globalThis as unknown as { webkitAudioContext?: typeof AudioContext }).webkitAudioContext
  if (!Ctx) return
  const ctx = new Ctx()
  void ctx.resume().catch(() => undefined)
  const start = ctx.currentTime
  for (let i = 0; i < 3; i++) {
    const osc = ctx.createOscillator()
    const gain = ctx.createGain()
    osc.type = 'square'
    osc.frequency.value = 880
    gain.gain.value = 0.3
    osc.connect(gain).connect(ctx.destination)
    osc.start(start + i * 0.3)
    osc.stop(start + i * 0.3 + 0.18)
  }
  // the context is closed once the tones have played, so repeated alarms do not pile up contexts
  setTimeout(() => void ctx.close().catch(() => undefined), 1500)
}
