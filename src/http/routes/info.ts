import type { FastifyInstance } from 'fastify';
import type { LoadedModel } from '../../service/live-types.ts';
import { ledgerCall, type RouteContext } from '../context.ts';
import { HttpError } from '../errors.ts';

/** What `GET /v1/models` tells about one artifact: identity, provenance and quality, never weights. */
export function modelInfo(m: LoadedModel) {
  const man = m.manifest;
  return {
    version: m.version,
    name: man.name,
    mode: man.mode,
    created_at: man.provenance.createdAt,
    seed: man.seed,
    data: { from: man.data.from, to: man.data.to, rows: man.data.rows },
    feature_count: man.features.length,
    targets: Object.fromEntries(
      Object.entries(man.targets).map(([t, e]) => [
        t,
        {
          positive: e.positive,
          kind: e.kind,
          calibration: e.calibration,
          auc: {
            train: e.metrics.train.auc,
            validation: e.metrics.validation.auc,
            out_of_time: e.metrics.outOfTime.auc,
          },
        },
      ]),
    ),
  };
}

/** Read-only routes: a recorded decision, the live models, the live policy. */
export function infoRoutes(app: FastifyInstance, ctx: RouteContext): void {
  app.get<{ Params: { id: string } }>('/v1/decisions/:id', { config: { scope: 'score' } }, async (req) => {
    const id = req.params.id;
    const d = await ledgerCall(ctx, 'read a decision', () => ctx.ledger.getDecision(id));
    if (!d) throw new HttpError(404, 'not_found', `no decision with id ${JSON.stringify(id.slice(0, 100))}`);
    return d;
  });

  app.get('/v1/models', { config: { scope: 'any' } }, async () => {
    const s = ctx.live.current();
    return {
      champion: modelInfo(s.champion),
      challenger: s.challenger ? modelInfo(s.challenger) : null,
      loaded_at: s.loadedAt,
    };
  });

  app.get('/v1/policy', { config: { scope: 'any' } }, async () => {
    const s = ctx.live.current();
    return {
      version: s.policy.version,
      description: s.policy.description,
      loaded_at: s.loadedAt,
      document: s.policy.document,
    };
  });
}
