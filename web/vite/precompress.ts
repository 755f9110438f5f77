// Precompression: after the build is written, every file worth it gets a
// brotli (name.br, quality 11) and a gzip (name.gz, level 9) form beside
// it, which web.go embeds and sends to clients that accept them. Worth it
// means text (scripts, styles, HTML, SVG, JSON) of 1 KB or more that
// shrinks by a tenth at least: smaller files fit in a packet anyway, and
// images are compressed already.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

const compressible = /\.(js|mjs|css|html|svg|json|webmanifest|txt|xml|map)$/;
const minBytes = 1024;

function* walk(dir: string): Generator<string> {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) yield* walk(p);
    else yield p;
  }
}

/** compressDir writes the .br and .gz forms of the files of dir and returns what it wrote. */
export function compressDir(dir: string): string[] {
  const wrote: string[] = [];
  for (const file of [...walk(dir)]) {
    if (!compressible.test(file) || statSync(file).size < minBytes) continue;
    const data = readFileSync(file);
    const forms: [string, Buffer][] = [
      [
        '.br',
        brotliCompressSync(data, {
          params: {
            [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
            [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT,
            [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
          },
        }),
      ],
      ['.gz', gzipSync(data, { level: 9 })],
    ];
    for (const [ext, out] of forms) {
      if (out.length > data.length * 0.9) continue;
      writeFileSync(file + ext, out);
      wrote.push(`${path.relative(dir, file)}${ext} ${data.length} → ${out.length} bytes`);
    }
  }
  return wrote;
}

/** precompress is the Vite plugin that runs compressDir on the build's output once it is written. */
export function precompress(): Plugin {
  let outDir = '';
  return {
    name: 'parley-precompress',
    apply: 'build',
    configResolved(config) {
      outDir = path.resolve(config.root, config.build.outDir);
    },
    closeBundle: {
      order: 'post',
      handler() {
        for (const line of compressDir(outDir)) this.info(line);
      },
    },
  };
}
