/**
 * The load-generator process (forked by remote.ts with an IPC channel): runs one command at a
 * time and answers with its result. Kept alive across runs, so its start-up is paid once.
 */
import { runHttp } from './http-detect.ts'
import type { GeneratorReply, LoadCommand } from './protocol.ts'
import { runStations } from './ws-stations.ts'

if (!process.send) throw new Error('generator.ts runs as a forked child with an IPC channel (see remote.ts)')
const reply = (m: GeneratorReply): void => void process.send!(m)

let chain = Promise.resolve()
process.on('message', (cmd: LoadCommand) => {
  chain = chain
    .then(async () => {
      const onWindow = (w: { startAt: number; endAt: number }) => reply({ type: 'window', ...w })
      reply({ type: 'result', result: cmd.type === 'http' ? await runHttp(cmd, onWindow) : await runStations(cmd, onWindow) })
    })
    .catch((e: unknown) => reply({ type: 'failed', message: (e as Error)?.stack ?? String(e) }))
})
// the parent going away ends the generator with it
process.on('disconnect', () => process.exit(0))
reply({ type: 'ready' })
