// Render Graphviz DOT (stdin) to SVG (stdout) with @viz-js/viz: Graphviz compiled to
// WebAssembly, installed by `npm ci` from package-lock.json. No `dot` binary, no network.
import { readFileSync } from "node:fs";
import { instance } from "@viz-js/viz";

const source = readFileSync(0, "utf8");
const viz = await instance();
const result = viz.render(source, { format: "svg", engine: "dot" });
if (result.status !== "success") {
  for (const error of result.errors) process.stderr.write(`${error.level}: ${error.message}\n`);
  process.exit(1);
}
process.stdout.write(result.output);
