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
  },
});
