import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

// Served by Sesame under /admin/ (src/http/admin); hashed asset names let the server cache them
// immutably while index.html is never cached.
export default defineConfig({
  base: '/admin/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    // auth0-spa-js (kept unchanged, issue 12) and React DOM make the first chunk ~620 kB before gzip
    // (~189 kB gzipped, stated in the README); the charts and every page but Activity are split off.
    chunkSizeWarningLimit: 700,
  },
});
