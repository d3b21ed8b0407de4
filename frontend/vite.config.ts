/// <reference types="vitest/config" />
import { defineConfig } from "vite";
import react from "@vitejs/plugin-react";

// Django serves frontend/dist as a static directory at STATIC_URL "/static/" and returns
// dist/index.html for "/" and every non-API path, so asset URLs carry the /static/ prefix.
export default defineConfig(({ command }) => ({
  // `npm run dev` serves the app at "/" so client-side routes look as they will under Django.
  base: command === "build" ? "/static/" : "/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
  },
  server: {
    // `npm run dev` against a local Django (python manage.py runserver).
    proxy: {
      "/api": process.env.API_ORIGIN ?? "http://127.0.0.1:8000",
    },
  },
  test: {
    include: ["src/**/*.test.ts"],
    environment: "node",
  },
}));
