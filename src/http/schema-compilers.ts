import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

/**
 * Compiled schemas shared by every app this process builds. Compiling the route schemas (Ajv for the
 * Management API's requests, fast-json-stringify for responses) was most of `buildApp`'s CPU: about
 * 370 ms of the 550 ms an in-memory build took on a 2-core machine (CPU profile of six builds). A
 * process that builds the app more than once (the test suite boots hundreds of servers) now compiles
 * each schema once. Ajv's own cache is keyed by object identity, and Fastify hands the compilers new
 * objects at every build, so the key is the schema's JSON text: route schemas are plain JSON, so
 * equal text means an equal compiled function.
 */
export function memoizeBySchema<R extends { schema: unknown }, F>(compile: (route: R) => F, part: (route: R) => string = () => ''): (route: R) => F {
  const done = new Map<string, F>();
  return (route) => {
    const key = `${part(route)} ${JSON.stringify(route.schema)}`;
    let fn = done.get(key);
    if (fn === undefined) {
      fn = compile(route);
      done.set(key, fn);
    }
    return fn;
  };
}

type SerializerFactory = (externalSchemas: unknown, options: unknown) => (route: { schema: unknown }) => unknown;
const serializers = new Map<string, ReturnType<SerializerFactory>>();
const fastifyDefault = SerializerSelector() as unknown as SerializerFactory;

/**
 * Fastify's own response-serializer factory (`schemaController.compilersFactory.buildSerializer`),
 * shared across builds: one memoized compiler per (shared schemas, options). A serializer depends on
 * its schema alone; status code and content type only choose which one runs.
 */
export const sharedSerializerFactory: SerializerFactory = (externalSchemas, options) => {
  const key = JSON.stringify([externalSchemas, options]);
  let compile = serializers.get(key);
  if (!compile) serializers.set(key, (compile = memoizeBySchema(fastifyDefault(externalSchemas, options))));
  return compile;
};
