import type { FastifyInstance } from 'fastify';
import { randomId } from '../../core/crypto.ts';
import { invalidBody, notFound } from '../../errors/api-error.ts';
import type { Services } from '../../services.ts';
import type { LogStreamDoc, LogStreamRecord } from '../../store/types.ts';
import { streamContext } from '../../logs/stream-delivery.ts';
import { requireScopes } from './auth.ts';
import { idParams } from './schemas.ts';

type Sink = LogStreamDoc['sink'];
interface SinkInput extends Partial<Sink> {
  signingSecret?: string;
}
interface CreateInput {
  name?: string;
  type: 'http';
  sink: SinkInput & { httpEndpoint: string };
}
interface PatchInput {
  name?: string;
  status?: LogStreamDoc['status'];
  sink?: SinkInput;
}

const FORMATS = ['JSONARRAY', 'JSONLINES', 'JSONOBJECT'] as const;
/** Header names and values as RFC 9110 §5.1/§5.5 allow them (a token; no CR, LF or NUL). */
const headerItem = {
  type: 'object',
  additionalProperties: false,
  required: ['header', 'value'],
  properties: { header: { type: 'string', pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,64}$" }, value: { type: 'string', maxLength: 1024, pattern: '^[^\\r\\n]*$' } },
} as const;
const sinkFields = {
  httpEndpoint: { type: 'string', minLength: 1, maxLength: 2048 },
  httpAuthorization: { type: 'string', maxLength: 4096, pattern: '^[^\\r\\n]*$' },
  httpContentFormat: { type: 'string', enum: FORMATS },
  httpContentType: { type: 'string', minLength: 1, maxLength: 255, pattern: '^[^\\r\\n]*$' },
  httpCustomHeaders: { type: 'array', maxItems: 20, items: headerItem },
  /** Sesame's, optional: the HMAC key of `X-Sesame-Signature`. Write-only. */
  signingSecret: { type: 'string', minLength: 32, maxLength: 1024 },
} as const;
const name = { type: 'string', minLength: 1, maxLength: 128 } as const;
const createBody = {
  type: 'object',
  additionalProperties: false,
  required: ['type', 'sink'],
  properties: {
    name,
    type: { type: 'string', enum: ['http'] },
    sink: { type: 'object', additionalProperties: false, required: ['httpEndpoint'], properties: sinkFields },
  },
} as const;
const patchBody = {
  type: 'object',
  additionalProperties: false,
  properties: { name, status: { type: 'string', enum: ['active', 'paused', 'suspended'] }, sink: { type: 'object', additionalProperties: false, properties: sinkFields } },
} as const;
/** What may leave the server: never `signingSecret` or its ciphertext (STYLE.md §7). */
const view = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    type: { type: 'string' },
    status: { type: 'string' },
    sink: {
      type: 'object',
      properties: {
        httpEndpoint: { type: 'string' },
        httpAuthorization: { type: 'string' },
        httpContentFormat: { type: 'string' },
        httpContentType: { type: 'string' },
        httpCustomHeaders: { type: 'array', items: { type: 'object', properties: { header: { type: 'string' }, value: { type: 'string' } } } },
      },
    },
  },
} as const;

/** Set by the delivery worker itself (stream-delivery.ts): a custom header may not replace them. */
const RESERVED_HEADERS = ['authorization', 'content-type', 'content-length', 'host', 'connection', 'transfer-encoding', 'x-sesame-signature'];

const streamNotFound = () => notFound('The log stream does not exist', 'inexistent_log_stream');
const toView = (r: LogStreamRecord) => ({ id: r.id, name: r.doc.name, type: r.doc.type, status: r.doc.status, sink: r.doc.sink });

/**
 * `/api/v2/log-streams` (Auth0's, type `http` only): the configuration the delivery worker
 * (logs/stream-worker.ts) reads before every batch. A new stream delivers the logs written from its
 * creation on, as Auth0's do. Loopback and private endpoints are allowed: the receiver is usually the
 * operator's own collector.
 */
export function registerLogStreams(api: FastifyInstance, s: Services): void {
  const { store } = s;
  const load = async (id: string) => {
    const r = await store.getLogStream(id);
    if (!r) throw streamNotFound();
    return r;
  };

  api.get('/log-streams', { onRequest: requireScopes(s, 'read:log_streams'), schema: { response: { 200: { type: 'array', items: view } } } }, async () =>
    (await store.listLogStreams()).map(toView),
  );

  api.get<{ Params: { id: string } }>(
    '/log-streams/:id',
    { onRequest: requireScopes(s, 'read:log_streams'), schema: { params: idParams, response: { 200: view } } },
    async (req) => toView(await load(req.params.id)),
  );

  api.post<{ Body: CreateInput }>(
    '/log-streams',
    {
      onRequest: requireScopes(s, 'create:log_streams'),
      schema: { body: createBody, response: { 200: view } },
      config: { audit: 'Create a log stream' },
    },
    async (req) => {
      const { signingSecret, ...sink } = req.body.sink;
      const now = s.now();
      const id = `lst_${randomId(16)}`;
      const record: LogStreamRecord = {
        id,
        doc: {
          name: req.body.name ?? 'HTTP log stream',
          type: 'http',
          status: 'active',
          sink: checkedSink({ httpContentFormat: 'JSONARRAY', httpContentType: 'application/json', ...sink }),
          // Auth0's body has no signingSecret: such a stream delivers unsigned, as Auth0's do, and
          // the receiver relies on httpAuthorization (docs/auth0-compat.md, Log streams).
          ...(signingSecret !== undefined ? { signing_secret_enc: s.keyring.seal(streamContext(id), signingSecret) } : {}),
        },
        // Every log_id starts with `90` and the 15-digit epoch ms (core/logs.ts): this bound is
        // below every log written from now on and above every earlier one.
        checkpoint: `90${String(now - 1).padStart(15, '0')}`,
        created_at: now,
      };
      await store.insertLogStream(record);
      return toView(record);
    },
  );

  api.patch<{ Params: { id: string }; Body: PatchInput }>(
    '/log-streams/:id',
    {
      onRequest: requireScopes(s, 'update:log_streams'),
      schema: { params: idParams, body: patchBody, response: { 200: view } },
      config: { audit: 'Update a log stream' },
    },
    async (req) => {
      const current = await load(req.params.id);
      const { signingSecret, ...sink } = req.body.sink ?? {};
      // The sink merges key by key: GET never returns the secret, so a caller changing the endpoint
      // need not re-send it.
      const doc: LogStreamDoc = {
        ...current.doc,
        ...(req.body.name !== undefined ? { name: req.body.name } : {}),
        ...(req.body.status !== undefined ? { status: req.body.status } : {}),
        sink: checkedSink({ ...current.doc.sink, ...sink }),
        ...(signingSecret !== undefined ? { signing_secret_enc: s.keyring.seal(streamContext(current.id), signingSecret) } : {}),
      };
      const updated = { ...current, doc };
      if (!(await store.updateLogStream(updated))) throw streamNotFound();
      return toView(updated);
    },
  );

  api.delete<{ Params: { id: string } }>(
    '/log-streams/:id',
    { onRequest: requireScopes(s, 'delete:log_streams'), schema: { params: idParams }, config: { audit: 'Delete a log stream' } },
    async (req, reply) => {
      if (!(await store.deleteLogStream(req.params.id))) throw streamNotFound();
      return reply.code(204).send();
    },
  );
}

function checkedSink(sink: Sink): Sink {
  let url: URL;
  try {
    url = new URL(sink.httpEndpoint);
  } catch {
    throw invalidBody('sink.httpEndpoint must be an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidBody('sink.httpEndpoint must be an absolute http(s) URL');
  const names = new Set<string>();
  for (const h of sink.httpCustomHeaders ?? []) {
    const lower = h.header.toLowerCase();
    if (RESERVED_HEADERS.includes(lower)) throw invalidBody(`sink.httpCustomHeaders: "${h.header}" is set by Sesame and cannot be overridden`);
    if (names.has(lower)) throw invalidBody(`sink.httpCustomHeaders: "${h.header}" is listed twice`);
    names.add(lower);
  }
  return sink;
}
