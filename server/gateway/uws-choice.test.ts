import { describe, expect, it } from 'vitest'
import { chooseUws, describeUws, JS_FALLBACK, UwsUnavailableError, versionAtLeast, type UwsCandidate, type UwsPlatform } from './uws-choice.ts'
import { currentPlatform, selectUws, UWS_CANDIDATES } from './uws.ts'

const btc: UwsCandidate = { name: 'btc', minGlibc: '2.38', binaryPath: (p) => `/btc/uws_${p.platform}_${p.arch}_${p.abi}.node` }
const truffle: UwsCandidate = { name: 'truffle', binaryPath: (p) => `/truffle/uws_${p.platform}_${p.arch}_${p.abi}.node` }
const debian12node20: UwsPlatform = { platform: 'linux', arch: 'x64', abi: '115', glibc: '2.36' }
const debian13node24: UwsPlatform = { platform: 'linux', arch: 'x64', abi: '137', glibc: '2.41' }

/** A file system holding `files`, where loading `broken` fails as the dynamic loader would. */
function io(files: string[], broken: string[] = []) {
  const loaded: string[] = []
  return {
    loaded,
    exists: (path: string) => files.includes(path),
    load: (path: string) => {
      if (broken.includes(path)) throw new Error(`${path}: undefined symbol: uv_foo\nstack`)
      loaded.push(path)
      return `api from ${path}`
    },
    fallback: () => 'javascript api',
  }
}

describe('choosing a uWebSockets.js binary', () => {
  it('prefers the first candidate whose binary matches this Node and glibc', () => {
    const fs = io(['/btc/uws_linux_x64_137.node', '/truffle/uws_linux_x64_137.node'])
    const choice = chooseUws(debian13node24, [btc, truffle], fs, false)
    expect(choice).toMatchObject({ name: 'btc', native: true, api: 'api from /btc/uws_linux_x64_137.node', skipped: [] })
    expect(fs.loaded).toEqual(['/btc/uws_linux_x64_137.node'])
  })

  it('skips a package built for a newer glibc without loading it, and says which glibc', () => {
    const fs = io(['/btc/uws_linux_x64_115.node', '/truffle/uws_linux_x64_115.node'])
    const choice = chooseUws(debian12node20, [btc, truffle], fs, false)
    expect(choice.name).toBe('truffle')
    expect(choice.skipped).toEqual([{ name: 'btc', reason: 'needs glibc 2.38, this system has glibc 2.36' }])
    expect(fs.loaded).toEqual(['/truffle/uws_linux_x64_115.node'])
  })

  it('skips a package with no binary for this Node ABI', () => {
    const choice = chooseUws(debian13node24, [truffle, btc], io(['/btc/uws_linux_x64_137.node']), false)
    expect(choice.name).toBe('btc')
    expect(choice.skipped[0]!.reason).toMatch(/no binary for Node ABI 137 on linux-x64/)
  })

  it('keeps the first line of the loader error when a binary is present but does not load', () => {
    const choice = chooseUws(debian13node24, [btc, truffle], io(['/btc/uws_linux_x64_137.node', '/truffle/uws_linux_x64_137.node'], ['/btc/uws_linux_x64_137.node']), false)
    expect(choice.name).toBe('truffle')
    expect(choice.skipped).toEqual([{ name: 'btc', reason: 'its binary did not load: /btc/uws_linux_x64_137.node: undefined symbol: uv_foo' }])
  })

  it('refuses the JavaScript fallback unless it is allowed, listing every reason', () => {
    const platform = { ...debian12node20, abi: '137' }
    const attempt = () => chooseUws(platform, [btc, truffle], io([]), false)
    expect(attempt).toThrow(UwsUnavailableError)
    expect(attempt).toThrow(/btc: needs glibc 2.38.*truffle: no binary for Node ABI 137.*UWS_ALLOW_JS_FALLBACK=true/)
  })

  it('uses the JavaScript fallback when allowed, and still reports why each binary was skipped', () => {
    const platform = { ...debian12node20, abi: '137' }
    const choice = chooseUws(platform, [btc, truffle], io([]), true)
    expect(choice).toMatchObject({ name: JS_FALLBACK, native: false, api: 'javascript api' })
    expect(choice.skipped.map((s) => s.name)).toEqual(['btc', 'truffle'])
    expect(describeUws(choice, platform)).toMatch(/^JavaScript fallback \(Node ABI 137, linux-x64, glibc 2.36\); skipped btc: .*; truffle: /)
  })

  it('does not ask for glibc off Linux, and treats a Linux without glibc as too old', () => {
    const mac = { platform: 'darwin', arch: 'arm64', abi: '137' }
    expect(chooseUws(mac, [btc], io(['/btc/uws_darwin_arm64_137.node']), false).name).toBe('btc')
    const musl = { platform: 'linux', arch: 'x64', abi: '137' }
    expect(() => chooseUws(musl, [btc], io(['/btc/uws_linux_x64_137.node']), false)).toThrow(/no glibc/)
  })

  it('compares glibc versions numerically', () => {
    expect(versionAtLeast('2.38', '2.38')).toBe(true)
    expect(versionAtLeast('2.41', '2.38')).toBe(true)
    expect(versionAtLeast('2.100', '2.38')).toBe(true)
    expect(versionAtLeast('2.36', '2.38')).toBe(false)
    expect(versionAtLeast('3', '2.38')).toBe(true)
  })
})

describe('the installed packages on this machine', () => {
  it('load a native binary, and skip @btc-vision exactly when glibc is older than 2.38', () => {
    const platform = currentPlatform()
    const status = selectUws(false)
    expect(status.native).toBe(true)
    const btcSkip = status.skipped.find((s) => s.name === UWS_CANDIDATES[0]!.name)
    const oldGlibc = platform.glibc !== undefined && !versionAtLeast(platform.glibc, '2.38')
    if (oldGlibc) {
      expect(status.package).toBe('@trufflesuite/uws-js-unofficial')
      expect(btcSkip?.reason).toBe(`needs glibc 2.38, this system has glibc ${platform.glibc}`)
    } else {
      expect(status.package).toBe('@btc-vision/uwebsockets.js')
    }
    expect(status.implementation).toContain(`Node ABI ${process.versions.modules}`)
  })
})
