import type { Actor } from '../../features/gdpr/model';
import { authOf, type HttpRequest } from './handler';

/** Who made the request, for the audit trail: verified subject, gateway source IP, request id. */
export function actorOf(request: HttpRequest): Actor {
  return { subject: authOf(request).subject, ip: request.sourceIp, request_id: request.requestId };
}
