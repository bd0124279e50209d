import type { FastifyInstance } from 'fastify';
import type { InFlightRequest } from './app.ts';

/** What a close with a drain deadline did. */
export interface DrainReport {
  /** True when every request in flight was answered before the deadline. */
  drained: boolean;
  /** The requests still unanswered at the deadline, whose connections were closed (empty when drained). */
  dropped: InFlightRequest[];
  /** Connections open at the deadline and closed then: the dropped requests' and idle or silent ones. */
  droppedConnections: number;
  /** Milliseconds from the start of the close to the listener's end. */
  elapsedMs: number;
}

/**
 * Closes the app: it stops listening, answers the requests in flight and closes idle keep-alive connections at
 * once. A request still unanswered after `deadlineMs` — typically a client that sent its headers and part of a body
 * and then stalled — has its connection closed, as has every other connection left, so a stop never waits on a
 * client (Node's own request timeout is 5 minutes, fastify disables it). `onDeadline` is told what is dropped just
 * before it is (to log it).
 */
export async function closeWithDeadline(
  app: FastifyInstance,
  deadlineMs: number,
  onDeadline: (dropped: InFlightRequest[], connections: number) => void,
): Promise<DrainReport> {
  const started = Date.now();
  let dropped: InFlightRequest[] = [];
  let droppedConnections = 0;
  let passed = false;
  const timer = setTimeout(() => {
    passed = true;
    dropped = app.inFlightRequests();
    app.server.getConnections((_err, n) => {
      droppedConnections = n ?? 0;
      onDeadline(dropped, droppedConnections);
      app.server.closeAllConnections();
    });
  }, deadlineMs);
  try {
    await app.close();
  } finally {
    clearTimeout(timer);
  }
  return { drained: !passed, dropped, droppedConnections, elapsedMs: Date.now() - started };
}
