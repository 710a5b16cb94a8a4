import { actorOf } from '../shared/actor';
import { DynamoConversionStore } from '../shared/conversions/store';
import { DynamoAuditTrail } from '../shared/gdpr/audit';
import {
  changeConsent,
  eraseSubject,
  exportSubject,
  patchSubject,
  patchSubjectBody,
  type SubjectDeps,
  subjectOf,
} from '../shared/gdpr/subjects';
import { authOf, type HttpRequest, httpHandler, json } from '../shared/http';
import { loadEmailHasher } from '../shared/leads/email-hash';
import { consentSchema } from '../shared/leads/schema';
import { DynamoLeadStore } from '../shared/leads/store';
import { pageSize } from '../shared/pagination';
import { scopeOf } from '../shared/tenancy/scope';
import { parseJsonBody } from '../shared/validation';

const leads = new DynamoLeadStore();
const conversions = new DynamoConversionStore();
const audit = new DynamoAuditTrail();

/** The caller's tenant, the data subject the path names, and what the use cases need. */
async function context(request: HttpRequest) {
  const scope = scopeOf(authOf(request));
  const hash = await loadEmailHasher();
  const deps: SubjectDeps = { leads, conversions, audit, hash };
  return {
    scope,
    deps,
    subject: subjectOf(scope, request.params.email ?? '', hash),
    actor: actorOf(request),
  };
}

export const handler = httpHandler('gdpr', {
  'GET /api/v1/gdpr/subjects/{email}': async (request) => {
    const { scope, deps, subject, actor } = await context(request);
    return json(200, await exportSubject(deps, scope, subject, actor));
  },

  'DELETE /api/v1/gdpr/subjects/{email}': async (request) => {
    const { scope, deps, subject, actor } = await context(request);
    return json(200, await eraseSubject(deps, scope, subject, actor));
  },

  'PATCH /api/v1/gdpr/subjects/{email}': async (request) => {
    const body = parseJsonBody(request, patchSubjectBody);
    const { scope, deps, subject, actor } = await context(request);
    return json(200, await patchSubject(deps, scope, subject, body, actor));
  },

  'POST /api/v1/gdpr/subjects/{email}/consent': async (request) => {
    const body = parseJsonBody(request, consentSchema);
    const { scope, deps, subject, actor } = await context(request);
    return json(200, await changeConsent(deps, scope, subject, body, actor));
  },

  'GET /api/v1/gdpr/audit': async (request) => {
    const scope = scopeOf(authOf(request));
    const email = request.query.email;
    const hash = email === undefined ? undefined : subjectOf(scope, email, await loadEmailHasher()).hash;
    const page = await audit.list(scope, hash, pageSize(request.query.limit), request.query.cursor);
    return json(200, page);
  },
});
