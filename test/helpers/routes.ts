/**
 * Every route Fastify answers, read back from its router (`printRoutes`), independently of the
 * collector under test: `METHOD /path` with Fastify's `:param` syntax, HEAD left out (Fastify adds
 * one per GET). The tree prints each node's segment under its parent's, 4 columns per level.
 */
export function registeredRoutes(tree: string): Set<string> {
  const out = new Set<string>();
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(.+?)(?: \(([A-Z, ]+)\))?$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    // Fastify prints a wildcard child of `/admin/*` under `/admin` as `*`, without its slash.
    const parent = stack[depth - 1] ?? '';
    const path = m[2] === '*' && !parent.endsWith('/') ? `${parent}/*` : parent + m[2];
    stack[depth] = path;
    for (const method of (m[3] ?? '').split(', ').filter(Boolean)) if (method !== 'HEAD') out.add(`${method} ${path}`);
  }
  return out;
}
