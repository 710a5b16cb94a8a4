import { request } from './http';

/** The tenant's opaque subject id of an email, as a client gets it before any GDPR call. */
export async function subjectId(base: string, token: string, email: string): Promise<string> {
  const res = await request(base, 'POST', '/api/v1/gdpr/subjects', { token, body: { email } });
  if (res.status !== 200) throw new Error(`no subject id: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.subject_id as string;
}
