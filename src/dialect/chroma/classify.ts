import type { ClassifyResult, CollectionRef, RequestFacts } from '../types';
import { canonicalCollectionId, isCollectionName, isScopeName, quoted } from './names';
import { ROUTES, type Route, type RouteTarget } from './routes';
import { chromaFilterTests, chromaRequestedRecords } from './volume';

/**
 * What a request to a Chroma >= 1.0 server is. Exact match only: the path must have a route's
 * segment count and literals, the method must be that route's method, and every captured name
 * must be one Chroma would accept. Everything else is unknown, and unknown is denied.
 */
export function classifyChromaRequest(facts: RequestFacts): ClassifyResult {
  const { method, segments } = facts;
  const request = `${method} ${shownPath(facts.path)}`;

  if (segments.some((s) => s === '')) {
    return unknown(`${request} has an empty path segment, so it is no Chroma endpoint; unknown endpoints are denied by default.`);
  }

  const sameShape = COMPILED.filter((r) => capture(r.pattern, segments) !== undefined);
  if (sameShape.length === 0) {
    const hint = segments[0] === 'api' && segments[1] === 'v1' ? " (Chroma's v1 API, from servers before 1.0, is not supported)" : '';
    return unknown(`${request} is not a Chroma endpoint vecgate knows${hint}; unknown endpoints are denied by default.`);
  }

  const route = sameShape.find((r) => r.route.method === method);
  if (!route) {
    const allowed = orList([...new Set(sameShape.map((r) => r.route.method))]);
    return unknown(`${request} is not a Chroma endpoint vecgate knows (this path takes ${allowed}); unknown endpoints are denied by default.`);
  }

  const captures = capture(route.pattern, segments) ?? {};
  const target = toTarget(captures, facts.body);
  if ('invalid' in target) {
    return unknown(`${request} ${target.invalid}, so vecgate cannot tell what it addresses; it is denied by default.`);
  }

  const outcome = route.route.classify(target);
  if ('unknown' in outcome) return unknown(outcome.unknown);
  const { tenant, database } = captures;
  const scope = tenant === undefined ? {} : { scope: database === undefined ? { tenant } : { tenant, database } };
  const endpoint = route.route.endpoint;
  const requested = chromaRequestedRecords(endpoint, facts.body);
  const filters = chromaFilterTests(endpoint, facts.body);
  const counted = { ...(requested !== undefined ? { requested } : {}), ...(filters ? { filters } : {}) };
  const listingKind = LISTINGS[endpoint];
  if (listingKind === undefined) return { known: true, classification: { endpoint, ...outcome, ...scope, ...counted } };
  const page = listingPage(facts.query);
  if ('invalid' in page) return unknown(`${request} ${page.invalid}, which Chroma would refuse; it is denied by default.`);
  const listing = listingKind === 'count' ? { kind: listingKind, offset: 0 } : { kind: listingKind, ...page };
  return { known: true, classification: { endpoint, ...outcome, ...scope, ...counted, listing } };
}

/** Endpoints that list collections or count them: the gateway filters their answers by policy. */
const LISTINGS: Readonly<Record<string, 'list' | 'count'>> = Object.freeze({
  'chroma.list_collections': 'list',
  'chroma.count_collections': 'count',
});

/** Chroma reads limit and offset as unsigned 32-bit integers, each at most once. */
function listingPage(query: URLSearchParams): { limit?: number; offset: number } | { invalid: string } {
  const page: { limit?: number; offset: number } = { offset: 0 };
  for (const key of ['limit', 'offset'] as const) {
    const values = query.getAll(key);
    if (values.length === 0) continue;
    const value = values[0] as string;
    if (values.length > 1 || !/^\d{1,10}$/.test(value) || Number(value) > 0xffffffff) {
      return { invalid: `has ${values.length > 1 ? `more than one ${key}` : `${key}=${quoted(value, 20)}, not a whole number from 0 to 4294967295`}` };
    }
    page[key] = Number(value);
  }
  return page;
}

/** a literal segment, or the name of a `{...}` placeholder */
type PathPart = { literal: string } | { param: string };

interface CompiledRoute {
  route: Readonly<Route>;
  pattern: readonly PathPart[];
}

const COMPILED: readonly CompiledRoute[] = Object.freeze(
  ROUTES.map((route) => ({
    route,
    pattern: route.path
      .split('/')
      .slice(1)
      .map((s): PathPart => Object.freeze(s.startsWith('{') && s.endsWith('}') ? { param: s.slice(1, -1) } : { literal: s })),
  })),
);

function capture(pattern: readonly PathPart[], segments: readonly string[]): Record<string, string> | undefined {
  if (pattern.length !== segments.length) return undefined;
  const captures: Record<string, string> = {};
  for (const [i, part] of pattern.entries()) {
    const segment = segments[i] as string;
    if ('literal' in part) {
      if (part.literal !== segment) return undefined;
    } else {
      captures[part.param] = segment;
    }
  }
  return captures;
}

function toTarget(captures: Record<string, string>, body: unknown): RouteTarget | { invalid: string } {
  const { collection_name: name, collection_id: rawId, crn } = captures;
  let { tenant, database } = captures;
  let crnName: string | undefined;
  if (crn !== undefined) {
    // tenant:database:collection; none of the three may hold a colon, so a split is exact
    const parts = crn.split(':');
    if (parts.length !== 3) return { invalid: `names collection resource ${quoted(crn)}, which is not tenant:database:collection` };
    [tenant, database, crnName] = parts as [string, string, string];
  }
  if (tenant !== undefined && !isScopeName(tenant)) return { invalid: `names tenant ${quoted(tenant)}, which is not a valid tenant name` };
  if (database !== undefined && !isScopeName(database)) return { invalid: `names database ${quoted(database)}, which is not a valid database name` };
  const scope = { tenant, database };
  let collection: CollectionRef | undefined;
  if (name !== undefined) {
    if (!isCollectionName(name)) return { invalid: `names collection ${quoted(name)}, which Chroma would refuse as a collection name` };
    collection = { kind: 'name', name, ...scope };
  }
  if (crnName !== undefined) {
    if (!isCollectionName(crnName)) return { invalid: `names collection ${quoted(crnName)}, which Chroma would refuse as a collection name` };
    collection = { kind: 'name', name: crnName, ...scope };
  }
  if (rawId !== undefined) {
    const id = canonicalCollectionId(rawId);
    if (id === undefined) return { invalid: `addresses collection id ${quoted(rawId)}, which is not a UUID` };
    collection = { kind: 'id', id, ...scope };
  }
  return { collection, ...scope, body };
}

/** "GET", "GET or DELETE", "GET, PUT or DELETE" */
function orList(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]}`;
}

function unknown(reason: string): ClassifyResult {
  return { known: false, reason };
}

/** The path as a reason shows it: one line, cut short. */
function shownPath(path: string): string {
  // eslint-disable-next-line no-control-regex
  const oneLine = path.replace(/[\u0000-\u001f\u007f]/g, '?');
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}…` : oneLine;
}
