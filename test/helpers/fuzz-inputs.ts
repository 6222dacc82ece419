/**
 * Seeded generators of malformed input for test/e2e/fuzz.test.ts: the same seed gives the same
 * requests, so a failure printed with its seed can be replayed.
 */

/** mulberry32: small, fast, good enough to pick test cases (not for secrets). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Gen {
  readonly #r: () => number;
  constructor(seed: number) {
    this.#r = prng(seed);
  }
  int(n: number): number {
    return Math.floor(this.#r() * n);
  }
  chance(p: number): boolean {
    return this.#r() < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }

  /** A string meant to break something: NUL anywhere, huge, odd Unicode, injection, encodings. */
  nastyString(base = 'x'): string {
    switch (this.int(16)) {
      case 0: return `\0${base}`;
      case 1: return `${base}\0`;
      case 2: return `${base.slice(0, 1)}\0${base.slice(1)}`;
      case 3: return base.repeat(1 + this.int(3)).padEnd(2000 + this.int(20_000), 'A');
      case 4: return '\ud800'; // a lone surrogate
      case 5: return `${base}\u202e\u200b\ufeff`; // RTL override, zero width, BOM
      case 6: return 'e\u0301'.repeat(50) + '💩'.repeat(20);
      case 7: return `' OR 1=1; --${base}`;
      case 8: return `%00${base}%`;
      case 9: return `${base}\r\nX-Injected: 1`;
      case 10: return '../../etc/passwd';
      case 11: return '';
      case 12: return '   ';
      case 13: return String(-1 - this.int(1e9));
      case 14: return `{{ ${base} }}{% raw %}<script>alert(1)</script>`;
      default: return `${base}\u0000\u0001\u001f\u007f`;
    }
  }

  /** A value of the wrong type, or a deeply nested one. */
  nastyValue(base = 'x'): unknown {
    switch (this.int(10)) {
      case 0: return this.int(2) === 0 ? 1e308 : -0.5;
      case 1: return true;
      case 2: return null;
      case 3: return [this.nastyString(base)];
      case 4: return { [this.nastyString('k')]: this.nastyString(base) };
      case 5: return deep(50 + this.int(3000), this.chance(0.5) ? '\0' : 'x');
      case 6: return { __proto__: { polluted: true }, constructor: { prototype: { polluted: true } } };
      default: return this.nastyString(base);
    }
  }
}

/** `[[[…"leaf"…]]]`, `depth` levels down. */
export function deep(depth: number, leaf: unknown): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}
