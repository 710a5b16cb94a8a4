import { DynamoConversionStore } from '../shared/features/conversions/dynamo';
import { DynamoAuditTrail } from '../shared/features/gdpr/dynamo-audit';
import { DynamoTombstones } from '../shared/features/gdpr/dynamo-tombstones';
import {
  changeConsent,
  eraseSubject,
  exportSubject,
  patchSubject,
  patchSubjectBody,
  type SubjectDeps,
  subjectById,
  subjectLookupBody,
  subjectOf,
} from '../shared/features/gdpr/service';
import { DynamoLeadStore } from '../shared/features/leads/dynamo';
import { loadEmailHasher } from '../shared/features/leads/rules/email-hash';
import { consentSchema } from '../shared/features/leads/schema';
import { scopeOf } from '../shared/features/tenancy/rules/scope';
import { pageSize } from '../shared/platform/dynamo/pagination';
import { actorOf } from '../shared/platform/http/actor';
import { authOf, type HttpRequest, httpHandler, json } from '../shared/platform/http/handler';
import { parseJsonBody } from '../shared/platform/http/validation';
import { purgeDeadLetters } from '../shared/platform/queues/dead-letters';

const leads = new DynamoLeadStore();
const conversions = new DynamoConversionStore();
const audit = new DynamoAuditTrail();
const tombstones = new DynamoTombstones();

/** The caller's tenant, the data subject the path names, and what the use cases need. */
async function context(request: HttpRequest) {
  const scope = scopeOf(authOf(request));
  const subject = subjectById(request.params.subject_id);
  const deps: SubjectDeps = {
    leads,
    conversions,
    audit,
    tombstones,
    hash: await loadEmailHasher(),
    purgeDeadLetters: (matches) => purgeDeadLetters('webhooks', matches),
  };
  return { scope, deps, subject, actor: actorOf(request) };
}

export const handler = httpHandler('gdpr', {
  'POST /api/v1/gdpr/subjects': async (request) => {
    const { email } = parseJsonBody(request, subjectLookupBody);
    const scope = scopeOf(authOf(request));
    return json(200, { subject_id: subjectOf(scope, email, await loadEmailHasher()).hash });
  },

  'GET /api/v1/gdpr/subjects/{subject_id}': async (request) => {
    const { scope, deps, subject, actor } = await context(request);
    return json(200, await exportSubject(deps, scope, subject, actor));
  },

  'DELETE /api/v1/gdpr/subjects/{subject_id}': async (request) => {
    const { scope, deps, subject, actor } = await context(request);
    return json(200, await eraseSubject(deps, scope, subject, actor));
  },

  'PATCH /api/v1/gdpr/subjects/{subject_id}': async (request) => {
    const body = parseJsonBody(request, patchSubjectBody);
    const { scope, deps, subject, actor } = await context(request);
    return json(200, await patchSubject(deps, scope, subject, body, actor));
  },

  'POST /api/v1/gdpr/subjects/{subject_id}/consent': async (request) => {
    const body = parseJsonBody(request, consentSchema);
    const { scope, deps, subject, actor } = await context(request);
    return json(200, await changeConsent(deps, scope, subject, body, actor));
  },

  'GET /api/v1/gdpr/audit': async (request) => {
    const scope = scopeOf(authOf(request));
    const subjectId = request.query.subject_id;
    const hash = subjectId === undefined ? undefined : subjectById(subjectId).hash;
    const page = await audit.list(scope, hash, pageSize(request.query.limit), request.query.cursor);
    return json(200, page);
  },
});
