// The app's icons in PNG and ICO, drawn at build time from public/icon.svg,
// so that the one SVG is the only source: a rounded square with a speech
// bubble. The drawing understands what that file holds and no more: one
// <rect> (with rx) and <path>s of straight lines (M, L, H, V, Z, absolute
// or relative), each filled with a #rrggbb colour. Anything else is an
// error, so that a change to the SVG cannot be drawn wrong in silence.
import { readFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import type { Plugin } from 'vite';

type RGB = [number, number, number];
interface Shape {
  fill: RGB;
  inside(x: number, y: number): boolean;
}
interface Drawing {
  size: number; // the viewBox is 0 0 size size
  background: { fill: RGB; rx: number };
  shapes: Shape[];
}

function attr(tag: string, name: string): string {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  if (!m) throw new Error(`icon.svg: ${tag} has no ${name}`);
  return m[1]!;
}

function colour(hex: string): RGB {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`icon.svg: colour ${hex} is not #rrggbb`);
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
}

/** polygon parses a path of straight lines into its corners. */
function polygon(d: string): [number, number][] {
  const tokens = d.match(/[MLHVZmlhvz]|-?\d*\.?\d+/g) ?? [];
  const points: [number, number][] = [];
  let x = 0;
  let y = 0;
  let cmd = '';
  for (let i = 0; i < tokens.length; ) {
    const t = tokens[i]!;
    if (/[A-Za-z]/.test(t)) {
      cmd = t;
      i++;
      if (cmd === 'Z' || cmd === 'z') continue;
    }
    const num = () => Number(tokens[i++]);
    switch (cmd) {
      case 'M':
      case 'L':
        x = num();
        y = num();
        break;
      case 'm':
      case 'l':
        x += num();
        y += num();
        break;
      case 'H':
        x = num();
        break;
      case 'h':
        x += num();
        break;
      case 'V':
        y = num();
        break;
      case 'v':
        y += num();
        break;
      default:
        throw new Error(`icon.svg: path command ${cmd} is not drawn`);
    }
    points.push([x, y]);
  }
  return points;
}

function insidePolygon(p: [number, number][], x: number, y: number): boolean {
  let inside = false;
  for (let i = 0, j = p.length - 1; i < p.length; j = i++) {
    const [xi, yi] = p[i]!;
    const [xj, yj] = p[j]!;
    if (yi > y !== yj > y && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function parseIcon(svg: string): Drawing {
  const box = attr(svg.match(/<svg[^>]*>/)?.[0] ?? '', 'viewBox').split(/\s+/).map(Number);
  const size = box[2]!;
  if (box[0] !== 0 || box[1] !== 0 || box[3] !== size) throw new Error('icon.svg: the viewBox must be 0 0 N N');
  const rects = svg.match(/<rect[^>]*>/g) ?? [];
  if (rects.length !== 1) throw new Error('icon.svg: one <rect>, the background, is drawn');
  const rect = rects[0]!;
  if (Number(attr(rect, 'width')) !== size || Number(attr(rect, 'height')) !== size) throw new Error('icon.svg: the <rect> must fill the viewBox');
  const shapes = (svg.match(/<path[^>]*>/g) ?? []).map((tag): Shape => {
    const p = polygon(attr(tag, 'd'));
    return { fill: colour(attr(tag, 'fill')), inside: (x, y) => insidePolygon(p, x, y) };
  });
  const rest = svg.replace(/<\/?svg[^>]*>|<rect[^>]*>|<path[^>]*>|\s/g, '');
  if (rest) throw new Error(`icon.svg: ${rest.slice(0, 40)} is not drawn`);
  return { size, background: { fill: colour(attr(rect, 'fill')), rx: Number(attr(rect, 'rx')) }, shapes };
}

function insideRounded(size: number, rx: number, x: number, y: number): boolean {
  const cx = Math.min(Math.max(x, rx), size - rx);
  const cy = Math.min(Math.max(y, rx), size - rx);
  return (x - cx) ** 2 + (y - cy) ** 2 <= rx * rx;
}

/**
 * render draws d at px pixels square. A full-bleed icon (maskable, or
 * Apple's, which the platform rounds itself) fills the square; the others
 * keep the rounded corners, transparent outside. A pixel whose corners and
 * centre all fall in one shape takes its colour; a pixel on an edge is the
 * average of 4×4 samples.
 */
export function render(d: Drawing, px: number, fullBleed: boolean): Buffer {
  const n = 4;
  const rx = fullBleed ? 0 : d.background.rx;
  const scale = d.size / px;
  // which is the shape at (x, y): -1 outside the icon, 0 the background, i+1 shape i.
  const which = (x: number, y: number): number => {
    if (!insideRounded(d.size, rx, x, y)) return -1;
    let k = 0;
    d.shapes.forEach((s, i) => {
      if (s.inside(x, y)) k = i + 1;
    });
    return k;
  };
  const fill = (k: number): RGB => (k === 0 ? d.background.fill : d.shapes[k - 1]!.fill);
  const rgba = Buffer.alloc(px * px * 4);
  for (let py = 0; py < px; py++) {
    for (let qx = 0; qx < px; qx++) {
      const o = (py * px + qx) * 4;
      const x0 = qx * scale;
      const y0 = py * scale;
      const k = which(x0 + scale / 2, y0 + scale / 2);
      const e = scale * 0.001;
      const corners = [which(x0 + e, y0 + e), which(x0 + scale - e, y0 + e), which(x0 + e, y0 + scale - e), which(x0 + scale - e, y0 + scale - e)];
      if (corners.every((c) => c === k)) {
        if (k >= 0) {
          fill(k).forEach((v, i) => (rgba[o + i] = v));
          rgba[o + 3] = 255;
        }
        continue;
      }
      let r = 0;
      let g = 0;
      let b = 0;
      let a = 0;
      for (let sy = 0; sy < n; sy++) {
        for (let sx = 0; sx < n; sx++) {
          const s = which(x0 + ((sx + 0.5) / n) * scale, y0 + ((sy + 0.5) / n) * scale);
          if (s < 0) continue;
          const c = fill(s);
          r += c[0];
          g += c[1];
          b += c[2];
          a++;
        }
      }
      if (a) {
        rgba[o] = Math.round(r / a);
        rgba[o + 1] = Math.round(g / a);
        rgba[o + 2] = Math.round(b / a);
        rgba[o + 3] = Math.round((a * 255) / (n * n));
      }
    }
  }
  return png(px, rgba);
}

/** png encodes an RGBA image of px × px pixels. */
export function png(px: number, rgba: Buffer): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'ascii');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])) >>> 0, 0);
    return Buffer.concat([head, data, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(px, 0);
  ihdr.writeUInt32BE(px, 4);
  ihdr[8] = 8; // bits per channel
  ihdr[9] = 6; // RGBA
  const rows = Buffer.alloc(px * (px * 4 + 1));
  for (let y = 0; y < px; y++) rgba.copy(rows, y * (px * 4 + 1) + 1, y * px * 4, (y + 1) * px * 4);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows, { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

/** ico packs PNG images, each [pixels, bytes], into a .ico file. */
export function ico(images: [number, Buffer][]): Buffer {
  const head = Buffer.alloc(6 + 16 * images.length);
  head.writeUInt16LE(1, 2); // an icon
  head.writeUInt16LE(images.length, 4);
  let offset = head.length;
  images.forEach(([px, data], i) => {
    const e = 6 + 16 * i;
    head[e] = px % 256; // 0 means 256
    head[e + 1] = px % 256;
    head.writeUInt16LE(1, e + 4); // planes
    head.writeUInt16LE(32, e + 6); // bits per pixel
    head.writeUInt32LE(data.length, e + 8);
    head.writeUInt32LE(offset, e + 12);
    offset += data.length;
  });
  return Buffer.concat([head, ...images.map(([, data]) => data)]);
}

/** iconFiles draws every icon file the manifest and index.html name. */
export function iconFiles(svg: string): Map<string, Buffer> {
  const d = parseIcon(svg);
  return new Map([
    ['favicon.ico', ico([16, 32, 48].map((px) => [px, render(d, px, false)]))],
    ['icon-192.png', render(d, 192, false)],
    ['icon-512.png', render(d, 512, false)],
    ['icon-maskable-512.png', render(d, 512, true)],
    ['apple-touch-icon.png', render(d, 180, true)],
  ]);
}

/** icons is the Vite plugin that writes the icons into the build and serves them in development. */
export function icons(svgPath: string): Plugin {
  let files: Map<string, Buffer> | undefined;
  const load = () => (files ??= iconFiles(readFileSync(svgPath, 'utf8')));
  return {
    name: 'parley-icons',
    generateBundle() {
      for (const [fileName, source] of load()) this.emitFile({ type: 'asset', fileName, source });
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const data = load().get((req.url ?? '').slice(1));
        if (!data) return next();
        res.setHeader('Content-Type', req.url!.endsWith('.ico') ? 'image/x-icon' : 'image/png');
        res.end(data);
      });
    },
  };
}
