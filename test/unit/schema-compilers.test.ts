import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { memoizeBySchema, sharedSerializerFactory } from '../../src/http/schema-compilers.ts';

/** Route schemas compile once per process, keyed by their text (src/http/schema-compilers.ts). */
describe('schema compilers shared across builds', () => {
  it('compiles equal schemas once, whatever the object, and different ones apart', () => {
    let compiled = 0;
    const compile = memoizeBySchema(({ schema }: { schema: unknown; httpPart?: string }) => ({ n: ++compiled, schema }), (r) => r.httpPart ?? '');
    const a = compile({ schema: { type: 'object', properties: { x: { type: 'string' } } }, httpPart: 'body' });
    const b = compile({ schema: { type: 'object', properties: { x: { type: 'string' } } }, httpPart: 'body' });
    assert.equal(a, b);
    assert.notEqual(compile({ schema: { type: 'object', properties: { x: { type: 'integer' } } }, httpPart: 'body' }), a);
    assert.notEqual(compile({ schema: { type: 'object', properties: { x: { type: 'string' } } }, httpPart: 'querystring' }), a, 'the part is in the key');
    assert.equal(compiled, 3);
  });

  it("Fastify's serializers: one function per schema text, and it serializes by that schema", () => {
    const build = sharedSerializerFactory({}, {});
    assert.equal(sharedSerializerFactory({}, {}), build, 'same shared schemas and options: same compiler');
    const schema = () => ({ type: 'object', properties: { a: { type: 'integer' } } });
    const first = build({ schema: schema() }) as (v: unknown) => string;
    assert.equal(build({ schema: schema() }), first);
    assert.equal(first({ a: 1, secret: 'dropped' }), '{"a":1}');
    const other = build({ schema: { type: 'object', properties: { b: { type: 'string' } } } }) as (v: unknown) => string;
    assert.equal(other({ a: 1, b: 'x' }), '{"b":"x"}');
  });
});
