/**
 * Renders the PWA icons from one SVG (client/public/icons/icon.svg) with sharp. Run after editing
 * the SVG: `npx tsx client/tools/make-icons.ts`. The PNGs are committed so the build needs no sharp.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import sharp from 'sharp'

const dir = fileURLToPath(new URL('../public/icons/', import.meta.url))
const svg = readFileSync(`${dir}icon.svg`)

// maskable icons are cropped to a circle by some launchers: keep the drawing inside the central 80%
const maskable = Buffer.from(
  svg
    .toString('utf8')
    .replace('<g id="art">', '<g id="art" transform="translate(51.2 51.2) scale(0.8)">')
    .replace(/rx="\d+"/, 'rx="0"'),
)

const outputs: [Buffer, number, string][] = [
  [svg, 192, 'icon-192.png'],
  [svg, 512, 'icon-512.png'],
  [maskable, 512, 'maskable-512.png'],
  [svg, 180, 'apple-touch-icon.png'],
]

for (const [source, size, name] of outputs) {
  const info = await sharp(source, { density: 300 }).resize(size, size).png({ compressionLevel: 9 }).toFile(`${dir}${name}`)
  console.log(`${name}: ${info.width}x${info.height}, ${info.size} bytes`)
}
