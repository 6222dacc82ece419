import type { Expression, ExpressionBuilder, SqlBool } from 'kysely';
import { sql } from './kysely.ts';
import type { LogEvent } from '../../core/model.ts';
import type { LogQuery } from '../types.ts';
import { LOG_COLUMNS, type Database, type LogColumn } from './schema.ts';

type EB = ExpressionBuilder<Database, 'logs'>;

const isColumn = (f: string): f is LogColumn => (LOG_COLUMNS as readonly string[]).includes(f);

/**
 * Compiles a parsed log query into a WHERE expression. Matching is case-sensitive and untokenised,
 * as Auth0's (LOGQ): SQLite uses GLOB (case-sensitive, `*` native), PostgreSQL LIKE.
 */
export function compileLogQuery(eb: EB, q: LogQuery, dialect: 'sqlite' | 'postgres'): Expression<SqlBool> {
  switch (q.kind) {
    case 'and':
      return eb.and(q.items.map((i) => compileLogQuery(eb, i, dialect)));
    case 'or':
      return eb.or(q.items.map((i) => compileLogQuery(eb, i, dialect)));
    case 'not':
      // NOT over NULL columns must be true ("not type:x" keeps logs without a type match).
      return eb.not(sql<SqlBool>`coalesce(${compileLogQuery(eb, q.item, dialect)}, false)`);
    case 'exists':
      return isColumn(q.field) ? eb(eb.ref(q.field), 'is not', null) : sql<SqlBool>`false`;
    case 'range': {
      if (!isColumn(q.field)) return sql<SqlBool>`false`;
      const parts: Expression<SqlBool>[] = [];
      if (q.from !== null) parts.push(eb(eb.ref(q.field), q.fromInclusive ? '>=' : '>', q.from));
      if (q.to !== null) parts.push(eb(eb.ref(q.field), q.toInclusive ? '<=' : '<', q.to));
      return parts.length ? eb.and(parts) : eb(eb.ref(q.field), 'is not', null);
    }
    case 'term': {
      const fields = q.fields.filter(isColumn);
      if (fields.length === 0) return sql<SqlBool>`false`;
      return eb.or(fields.map((f) => matchTerm(eb, f, q.value, q.wildcard, dialect)));
    }
  }
}

function matchTerm(eb: EB, field: LogColumn, value: string, wildcard: boolean, dialect: 'sqlite' | 'postgres') {
  if (!wildcard) return eb(eb.ref(field), '=', value);
  if (dialect === 'sqlite') {
    // GLOB metacharacters other than our `*` are bracketed to match literally.
    const pattern = value.replace(/[?[\]]/g, (c) => `[${c}]`);
    return sql<SqlBool>`${sql.ref(field)} GLOB ${pattern}`;
  }
  const pattern = value.replace(/[\\%_]/g, (c) => `\\${c}`).replace(/\*/g, '%');
  return sql<SqlBool>`${sql.ref(field)} LIKE ${pattern}`;
}

export function logToRow(log: LogEvent): Database['logs'] {
  return {
    log_id: log.log_id,
    date: log.date,
    type: log.type,
    description: log.description,
    client_id: log.client_id ?? null,
    client_name: log.client_name ?? null,
    connection: log.connection ?? null,
    connection_id: log.connection_id ?? null,
    ip: log.ip ?? null,
    hostname: log.hostname ?? null,
    user_agent: log.user_agent ?? null,
    user_id: log.user_id ?? null,
    user_name: log.user_name ?? null,
    audience: log.audience ?? null,
    scope: log.scope ?? null,
    strategy: log.strategy ?? null,
    strategy_type: log.strategy_type ?? null,
    doc: JSON.stringify(log),
  };
}
