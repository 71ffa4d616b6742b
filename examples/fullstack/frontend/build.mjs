// A dependency-free "build": copies src/ to dist/. Swap in Vite or Next without changing shipit.yaml.
import { cpSync, mkdirSync } from "node:fs";

mkdirSync("dist", { recursive: true });
cpSync("src", "dist", { recursive: true });
console.log("built dist/");
