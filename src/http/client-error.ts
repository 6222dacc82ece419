import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';

/** How long a refused connection may go on sending before it is cut off. */
const LINGER_MS = 2_000;

/**
 * Requests Node's HTTP parser refuses before any route sees them (431 headers too large, 400
 * malformed, 408 too slow). Fastify's default handler writes the answer and destroys the socket at
 * once. Closing a socket with unread input (the rest of the headers, a body) makes the kernel send a
 * reset, and the reset can discard the answer before the client reads it: the client sees "other
 * side closed" instead of a 4xx (the fuzz test saw it under load). Here the answer goes out with
 * `Connection: close`, the socket half-closes after it, the rest of the input is read and dropped,
 * and the socket is destroyed when the client closes its side or after 2 s (a bounded lingering
 * close, as nginx does). The bodies are Fastify's own.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, message] =
    err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'Client Timeout']
    : err.code === 'HPE_HEADER_OVERFLOW' ? [431, 'Exceeded maximum allowed HTTP header size']
    : [400, 'Client Error'];
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const body = JSON.stringify({ error: STATUS_CODES[status], message, statusCode: status });
  // A reset from the client now changes nothing: the answer is written or it is not.
  socket.on('error', () => {});
  socket.end(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
  socket.resume();
  setTimeout(() => socket.destroy(), LINGER_MS).unref();
}
