/**
 * The repository's Markdown as a reader follows it: the relative links of a document, the anchors
 * a document offers (GitHub's heading ids and explicit `<a id>`), and which links lead nowhere.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export interface MarkdownLink {
  readonly line: number;
  readonly target: string;
}

/** Fenced code blocks hold examples, not links: blank them, keeping the line numbers. */
function withoutCodeBlocks(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line.replace(/`[^`]*`/g, '');
  });
}

/** Every `[text](target)` link whose target is not an absolute URL (http, https, mailto). */
export function relativeLinks(markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  withoutCodeBlocks(markdown).forEach((text, index) => {
    for (const match of text.matchAll(/\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = match[1] as string;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue;
      links.push({ line: index + 1, target });
    }
  });
  return links;
}

/** GitHub's id of a heading: lower case, punctuation dropped, spaces to hyphens. */
export function headingSlug(heading: string): string {
  return heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');
}

/** The anchors a document offers: its headings' ids (repeats numbered as GitHub does) and `<a id>`s. */
export function anchors(markdown: string): Set<string> {
  const found = new Set<string>();
  const seen = new Map<string, number>();
  for (const line of withoutCodeBlocksKeepingHeadings(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (heading) {
      const slug = headingSlug(heading[1] as string);
      const count = seen.get(slug) ?? 0;
      found.add(count === 0 ? slug : `${slug}-${count}`);
      seen.set(slug, count + 1);
    }
    for (const match of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) found.add(match[1] as string);
  }
  return found;
}

function withoutCodeBlocksKeepingHeadings(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return '';
    }
    return fenced ? '' : line;
  });
}

/**
 * The links of `file` (a path under `root`) that lead nowhere: a file or folder that does not
 * exist, or an anchor the target Markdown document does not have. `read` reads a repository file.
 */
export function brokenLinks(
  root: string,
  file: string,
  read: (repositoryPath: string) => string | undefined = (p) => readIfFile(root, p),
): string[] {
  const markdown = read(file);
  if (markdown === undefined) return [`${file}: no such file`];
  const broken: string[] = [];
  for (const { line, target } of relativeLinks(markdown)) {
    const [pathPart, anchor] = target.split('#', 2) as [string, string | undefined];
    const resolved =
      pathPart === ''
        ? file
        : path.posix.normalize(path.posix.join(path.posix.dirname(file), decodeURI(pathPart)));
    const where = `${file}:${line} -> ${target}`;
    if (resolved.startsWith('..')) {
      broken.push(`${where} (outside the repository)`);
      continue;
    }
    const text = read(resolved);
    if (text === undefined && !isDirectory(root, resolved)) {
      broken.push(`${where} (no such file)`);
      continue;
    }
    if (
      anchor !== undefined &&
      resolved.endsWith('.md') &&
      text !== undefined &&
      !anchors(text).has(anchor)
    ) {
      broken.push(`${where} (no such section)`);
    }
  }
  return broken;
}

function readIfFile(root: string, repositoryPath: string): string | undefined {
  const full = path.join(root, repositoryPath);
  return existsSync(full) && statSync(full).isFile() ? readFileSync(full, 'utf8') : undefined;
}

function isDirectory(root: string, repositoryPath: string): boolean {
  const full = path.join(root, repositoryPath);
  return existsSync(full) && statSync(full).isDirectory();
}

/**
 * The top-level folders of the project's code: the runtime, the contract data, the infrastructure,
 * the local run mode, the operator tools, the scripts and the benchmarks.
 */
export const CODE_FOLDERS = ['functions', 'contract', 'infra', 'local', 'ops', 'tools', 'bin', 'bench'];

/** Top-level folders whose paths a document names in code spans, e.g. `contract/routes.ts`. */
const REPOSITORY_ROOTS = [...CODE_FOLDERS, 'test', 'docs', '.ci', '.github'];

/**
 * The repository paths a document names in code spans (`functions/shared/platform/http/handler.ts`, `test/e2e`),
 * without an anchor; templates such as `functions/<name>/handler.ts` are not paths.
 */
export function namedPaths(markdown: string): string[] {
  const roots = REPOSITORY_ROOTS.map((r) => r.replace('.', '\\.')).join('|');
  const pattern = new RegExp(`\`((?:${roots})/[A-Za-z0-9_./-]+)(?:#[^\`]*)?\``, 'g');
  return [...markdown.matchAll(pattern)].map((m) => (m[1] as string).replace(/\.$/, ''));
}

/** The repository paths `file` names in code spans that are neither a file nor a folder. */
export function missingPaths(root: string, file: string): string[] {
  const markdown = readFileSync(path.join(root, file), 'utf8');
  return [...new Set(namedPaths(markdown))].filter((p) => !existsSync(path.join(root, p)));
}

/** The Markdown files under a folder of the repository, as repository paths. */
export function markdownFiles(root: string, folder: string): string[] {
  const found: string[] = [];
  for (const entry of readdirSync(path.join(root, folder), { withFileTypes: true })) {
    const relative = path.posix.join(folder, entry.name);
    if (entry.isDirectory()) found.push(...markdownFiles(root, relative));
    else if (entry.name.endsWith('.md')) found.push(relative);
  }
  return found.sort();
}
