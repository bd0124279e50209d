import type { FastifyInstance } from 'fastify';
import type { RouteContext } from '../context.ts';
import { PROMETHEUS_CONTENT_TYPE } from '../metrics.ts';

/** Resolves to the ping's answer, or false when it throws or takes longer than `ms`. */
async function pingWithin(ping: () => Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([
      ping().then(
        (ok) => ok === true,
        () => false,
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Health, readiness, metrics, the OpenAPI document and the reload route. */
export function opsRoutes(app: FastifyInstance, ctx: RouteContext, openapi: () => unknown): void {
  // Health routes need no key and are exempt from rate limits: load balancers and orchestrators poll them.
  app.get('/healthz', { config: { rateLimit: false } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { rateLimit: false } }, async (_req, reply) => {
    let champion: string | null = null;
    let challenger: string | null = null;
    let policy: string | null = null;
    try {
      const s = ctx.live.current();
      champion = s.champion.version;
      challenger = s.challenger?.version ?? null;
      policy = s.policy.version;
    } catch {
      // Not loaded: reported as not ready below.
    }
    const ledgerOk = await pingWithin(() => ctx.ledger.ping(), ctx.limits.readyTimeoutMs);
    const ready = champion !== null && policy !== null && ledgerOk;
    return reply.status(ready ? 200 : 503).send({
      status: ready ? 'ready' : 'not_ready',
      checks: {
        models: { ok: champion !== null, champion, challenger },
        policy: { ok: policy !== null, version: policy },
        ledger: { ok: ledgerOk, kind: ctx.ledger.kind },
      },
    });
  });

  app.get('/metrics', { config: { scope: 'admin' } }, async (_req, reply) =>
    reply.type(PROMETHEUS_CONTENT_TYPE).send(ctx.metrics.render()),
  );

  app.get('/openapi.json', { config: { scope: 'any' } }, async () => openapi());

  // 200 with the outcome even when a part was refused: the reload itself worked (the old part keeps serving) and
  // `refused` says what was kept and why, so one call can swap a policy while reporting a broken model.
  app.post('/v1/admin/reload', { config: { scope: 'admin' } }, async (req) => {
    const outcome = await ctx.live.reload();
    ctx.metrics.reloads.inc({ result: outcome.refused.length ? 'refused' : 'ok' });
    req.log.info(
      {
        champion: outcome.champion,
        challenger: outcome.challenger,
        policy: outcome.policy,
        refused: outcome.refused.length,
      },
      'reload',
    );
    if (outcome.refused.length) req.log.warn({ refused: outcome.refused }, 'reload refused a part');
    return outcome;
  });
}
