// URLs of modules loaded by computed name (`bpfkit <command>` → src/cli/<command>), with the extension this copy of
// bpfkit runs from: `.ts` in a source checkout (tsx), `.js` in dist/ (npm run build). Relative to src/cli.
const EXT = import.meta.url.slice(import.meta.url.lastIndexOf("."));

/** The URL of `path` (relative to src/cli, without extension), e.g. moduleUrl("./filter"). */
export function moduleUrl(path: string): URL {
  return new URL(`${path}${EXT}`, import.meta.url);
}
