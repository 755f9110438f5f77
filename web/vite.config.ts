/// <reference types="vitest/config" />
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { icons } from './vite/icons.ts';
import { precompress } from './vite/precompress.ts';

// In development, run `parley serve` on :8080 and `npm run dev` here (:5173;
// PARLEY_DEV_SERVER=http://localhost:9000 points it at another address):
// Vite proxies the REST API and the WebSocket, so the browser sees one origin.
// changeOrigin stays false: the server checks the WebSocket's Origin against
// the Host it was asked for, and both must be the page's.
const server = process.env.PARLEY_DEV_SERVER ?? 'http://localhost:8080';

export default defineConfig({
  // icons draws the PNG and ICO icons from public/icon.svg; precompress
  // writes the .br and .gz forms that web.go serves.
  plugins: [react(), icons('public/icon.svg'), precompress()],
  server: {
    proxy: {
      '/api': { target: server, changeOrigin: false },
      '/ws': { target: server, ws: true, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
  },
  test: {
    include: ['src/**/*.test.ts', 'src/**/*.test.tsx'],
    environment: 'node',
  },
});
