/**
 * The Dockerfiles, linted (dockerfile-utils, the validator behind the VS Code Docker extension)
 * and held to what the images promise: Node 24 LTS on a glibc new enough for the native
 * uWebSockets.js, no build tools in the runtime stage, a non-root user, a HEALTHCHECK and node as
 * PID 1. The CPU image is built and run by `npm run test:docker`; the CUDA image cannot be built
 * here (its base comes only from NVIDIA's registry), so this is all that checks it.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { validate } from 'dockerfile-utils'
import { describe, expect, it } from 'vitest'
import { ROOT } from '../helpers/server.ts'

const FILES = ['deploy/docker/Dockerfile', 'deploy/docker/Dockerfile.cuda']

/** The instructions of the last stage (the image that ships). */
function runtimeStage(text: string): string {
  const stages = text.split(/^FROM /m)
  return stages[stages.length - 1]!
}

describe.each(FILES)('%s', (file) => {
  const text = readFileSync(join(ROOT, file), 'utf8')

  it('lints without problems', () => {
    const problems = validate(text).map((d) => `${file}:${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`)
    expect(problems).toEqual([])
  })

  it('builds on Node 24 LTS', () => {
    expect(text).toMatch(/^ARG NODE_IMAGE=node:24-trixie-slim$/m)
  })

  it('leaves the build tools in the build stage and runs as a non-root user with a HEALTHCHECK', () => {
    const runtime = runtimeStage(text)
    expect(runtime).not.toMatch(/apt-get install[^\n]*(g\+\+|make|python3|gcc)/)
    expect(runtime).toMatch(/^USER linesight$/m)
    expect(runtime).toMatch(/^HEALTHCHECK /m)
    expect(runtime).toMatch(/^CMD \["node", "--import", "tsx", "server\/main.ts"\]$/m)
  })

  it('prunes the native binaries of other platforms', () => {
    expect(text).toMatch(/npm prune --omit=dev[^\n]*prune-runtime/)
  })
})

describe('deploy/docker/Dockerfile.cuda', () => {
  it('runs on a CUDA base whose glibc loads @btc-vision/uwebsockets.js (2.38 or newer: Ubuntu 24.04)', () => {
    expect(readFileSync(join(ROOT, 'deploy/docker/Dockerfile.cuda'), 'utf8')).toMatch(/^ARG CUDA_IMAGE=nvidia\/cuda:[^\n]*-ubuntu24\.04$/m)
  })
})
