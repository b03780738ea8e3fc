/**
 * HTTPS for the plant network: tablets reach the server by its LAN address, and browsers only
 * give camera access and WebGPU to secure contexts. With TLS_CERT_FILE/TLS_KEY_FILE unset, a
 * self-signed certificate (ECDSA P-256, 5 years, SANs for localhost, this host's name and every
 * LAN address, plus TLS_HOSTNAMES) is generated on first start and kept in the data folder, so
 * a tablet trusts it once (README: "Trusting the certificate on a tablet").
 */
import { X509Certificate } from 'node:crypto'
import { existsSync } from 'node:fs'
import { chmod, mkdir, readFile, writeFile } from 'node:fs/promises'
import { hostname, networkInterfaces } from 'node:os'
import { join } from 'node:path'
import selfsigned from 'selfsigned'

export interface TlsFiles {
  certFile: string
  keyFile: string
  generated: boolean
  /** SHA-256 fingerprint, printed at startup so a tablet user can check it. */
  fingerprint: string
  names: string[]
}

export function certificateNames(extra: readonly string[] = []): { dns: string[]; ips: string[] } {
  const dns = new Set(['localhost', hostname(), ...extra.filter((n) => !/^[\d.:]+$/.test(n))])
  const ips = new Set(['127.0.0.1', '::1', ...extra.filter((n) => /^[\d.:]+$/.test(n))])
  for (const addrs of Object.values(networkInterfaces())) {
    // link-local addresses change with every interface and are useless to a tablet
    for (const a of addrs ?? []) if (!a.internal && !a.address.startsWith('fe80:')) ips.add(a.address)
  }
  return { dns: [...dns], ips: [...ips] }
}

export async function ensureTls(opts: { certFile?: string; keyFile?: string; dataDir: string; hostnames: readonly string[] }): Promise<TlsFiles> {
  if (opts.certFile || opts.keyFile) {
    if (!opts.certFile || !opts.keyFile) throw new Error('set both TLS_CERT_FILE and TLS_KEY_FILE, or neither')
    const cert = new X509Certificate(await readFile(opts.certFile))
    return { certFile: opts.certFile, keyFile: opts.keyFile, generated: false, fingerprint: cert.fingerprint256, names: [cert.subjectAltName ?? cert.subject] }
  }
  const dir = join(opts.dataDir, 'tls')
  const certFile = join(dir, 'cert.pem')
  const keyFile = join(dir, 'key.pem')
  const { dns, ips } = certificateNames(opts.hostnames)
  const namesFile = join(dir, 'names.json')
  const names = [...dns, ...ips]
  if (existsSync(certFile) && existsSync(keyFile) && existsSync(namesFile)) {
    const cert = new X509Certificate(await readFile(certFile))
    const covered = new Set(JSON.parse(await readFile(namesFile, 'utf8')) as string[])
    // regenerate when the host gained a name or address the old certificate does not cover
    const covers = names.every((n) => covered.has(n))
    if (covers && new Date(cert.validTo).getTime() > Date.now() + 7 * 86400_000) {
      return { certFile, keyFile, generated: false, fingerprint: cert.fingerprint256, names }
    }
  }
  await mkdir(dir, { recursive: true })
  const notAfter = new Date()
  notAfter.setFullYear(notAfter.getFullYear() + 5)
  const pems = await selfsigned.generate([{ name: 'commonName', value: `linesight ${hostname()}` }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: notAfter,
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      { name: 'subjectAltName', altNames: [...dns.map((value) => ({ type: 2 as const, value })), ...ips.map((ip) => ({ type: 7 as const, ip }))] },
    ],
  })
  await writeFile(keyFile, pems.private, { mode: 0o600 })
  await chmod(keyFile, 0o600)
  await writeFile(certFile, pems.cert)
  await writeFile(namesFile, JSON.stringify(names))
  const cert = new X509Certificate(pems.cert)
  return { certFile, keyFile, generated: true, fingerprint: cert.fingerprint256, names }
}
