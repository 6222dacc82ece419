import { STATUS_CODES } from 'node:http';

/**
 * Management API error, serialised as Auth0's envelope `{statusCode, error, message, errorCode}`
 * (spec §5; node-auth0 `parseError` reads `message` and `errorCode`).
 */
export class ApiError extends Error {
  readonly statusCode: number;
  readonly errorCode: string | undefined;

  constructor(statusCode: number, message: string, errorCode?: string) {
    super(message);
    this.statusCode = statusCode;
    this.errorCode = errorCode;
  }

  toJSON() {
    return {
      statusCode: this.statusCode,
      error: STATUS_CODES[this.statusCode] ?? 'Error',
      message: this.message,
      ...(this.errorCode ? { errorCode: this.errorCode } : {}),
    };
  }
}

export const invalidBody = (message: string) => new ApiError(400, message, 'invalid_body');
export const invalidQuery = (message: string) => new ApiError(400, message, 'invalid_query_string');
export const notFound = (message: string, errorCode = 'inexistent_resource') => new ApiError(404, message, errorCode);
export const conflict = (message: string, errorCode = 'conflict') => new ApiError(409, message, errorCode);
export const insufficientScope = (scopes: string[]) =>
  new ApiError(403, `Insufficient scope, expected any of: ${scopes.join(',')}`, 'insufficient_scope');
export const unauthorized = (message = 'Missing authentication') => new ApiError(401, message);
