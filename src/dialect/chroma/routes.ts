import type { CollectionRef, OperationClass } from '../types';
import { field, hasFilter, hasListedIds, isJsonObject } from './body';
import { isCollectionName, quoted } from './names';

/**
 * Every endpoint of the Chroma 1.0 server (shared/specs/chroma-1.0.0-openapi.json) and of the
 * current 1.5 server (test/fixtures/chroma-1.5.9-openapi.json), with its operation class. Paths
 * are written as the spec writes them; the placeholders {tenant}, {database}, {collection_name},
 * {collection_id} and {crn} are captured. Anything not in this table is unknown and denied.
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/** What the path and body of a matched request provide; the captures are already validated. */
export interface RouteTarget {
  /** the collection the path names: by name or by id, as the route says */
  collection?: CollectionRef;
  tenant?: string;
  database?: string;
  body: unknown;
}

export type RouteOutcome =
  | { operation: OperationClass; collections: CollectionRef[]; bulk: boolean; reason: string }
  | { unknown: string };

export interface Route {
  method: HttpMethod;
  path: string;
  /** `chroma.` + the spec's operationId */
  endpoint: string;
  classify(target: RouteTarget): RouteOutcome;
}

const P = '/api/v2/tenants/{tenant}/databases/{database}';
const C = `${P}/collections/{collection_id}`;

/** A route whose class does not depend on the body; it touches the path's collection, if any. */
function fixed(operation: OperationClass, reason: string): Route['classify'] {
  return (t) => ({ operation, collections: t.collection ? [t.collection] : [], bulk: false, reason });
}

function named(t: RouteTarget, name: string): CollectionRef {
  return { kind: 'name', name, tenant: t.tenant, database: t.database };
}

function createCollection(t: RouteTarget): RouteOutcome {
  const name = field(t.body, 'name');
  if (!isCollectionName(name)) {
    return {
      unknown:
        'POST …/collections without a valid collection name in its JSON body cannot be tied to a collection, so it is denied by default.',
    };
  }
  const opens = field(t.body, 'get_or_create') === true ? ' (or opens it if it exists, get_or_create)' : '';
  return {
    operation: 'schema',
    collections: [named(t, name)],
    bulk: false,
    reason: `POST …/collections creates collection ${quoted(name)}${opens}: schema.`,
  };
}

function updateCollection(t: RouteTarget): RouteOutcome {
  const source = t.collection ? [t.collection] : [];
  if (!isJsonObject(t.body)) {
    return { unknown: 'PUT …/collections/{id} without a JSON object body is not a collection update Chroma accepts, so it is denied by default.' };
  }
  const newName = field(t.body, 'new_name');
  if (newName === undefined) {
    return { operation: 'schema', collections: source, bulk: false, reason: "PUT …/collections/{id} changes a collection's metadata or configuration: schema." };
  }
  if (!isCollectionName(newName)) {
    return { unknown: 'PUT …/collections/{id} with a new_name Chroma would refuse cannot be tied to a collection, so it is denied by default.' };
  }
  // A rename moves the collection under another name's rules: the new name must be allowed too.
  return {
    operation: 'schema',
    collections: [...source, named(t, newName)],
    bulk: false,
    reason: `PUT …/collections/{id} renames a collection to ${quoted(newName)}: schema on both names.`,
  };
}

function forkCollection(t: RouteTarget): RouteOutcome {
  const newName = field(t.body, 'new_name');
  if (!isCollectionName(newName)) {
    return {
      unknown: 'POST …/collections/{id}/fork without a valid new_name in its JSON body cannot be tied to the collection it creates, so it is denied by default.',
    };
  }
  return {
    operation: 'schema',
    collections: [...(t.collection ? [t.collection] : []), named(t, newName)],
    bulk: false,
    reason: `POST …/collections/{id}/fork copies a collection into a new collection ${quoted(newName)}: schema on both.`,
  };
}

function attachFunction(t: RouteTarget): RouteOutcome {
  const output = field(t.body, 'output_collection');
  if (!isCollectionName(output)) {
    return {
      unknown:
        'POST …/functions/attach without a valid output_collection in its JSON body cannot be tied to the collection the function writes, so it is denied by default.',
    };
  }
  // The function keeps reading the input and writing (creating) the output collection: both names' rules apply.
  return {
    operation: 'schema',
    collections: [...(t.collection ? [t.collection] : []), named(t, output)],
    bulk: false,
    reason: `POST …/functions/attach attaches a function that writes into collection ${quoted(output)}: schema on both.`,
  };
}

function detachFunction(t: RouteTarget): RouteOutcome {
  if (field(t.body, 'delete_output') === true) {
    // The output collection is not named in the request, so no per-collection rule can govern dropping
    // it: like dropping a database, only a rule over the whole connection (collections ['*']) grants it.
    return {
      operation: 'admin',
      collections: [],
      bulk: false,
      reason: "POST …/detach with delete_output drops the function's output collection, which the request does not name: admin.",
    };
  }
  return { operation: 'schema', collections: t.collection ? [t.collection] : [], bulk: false, reason: 'POST …/attached_functions/{name}/detach stops a function attached to the collection: schema.' };
}

function getRecords(t: RouteTarget): RouteOutcome {
  const collections = t.collection ? [t.collection] : [];
  if (hasListedIds(t.body)) {
    return { operation: 'read', collections, bulk: false, reason: 'POST …/get with ids reads only the listed records: read by id.' };
  }
  let reason: string;
  if (!isJsonObject(t.body)) reason = 'POST …/get without a JSON object body cannot be shown to name its records, so it counts as a bulk export.';
  else if (field(t.body, 'ids') !== undefined) reason = 'POST …/get whose ids is not a non-empty list of strings is not bounded to listed records: bulk export.';
  else if (hasFilter(t.body)) reason = 'POST …/get with a filter and no ids reads every matching record: bulk export.';
  else reason = 'POST …/get without ids reads every record up to its limit: bulk export.';
  return { operation: 'export', collections, bulk: true, reason };
}

function deleteRecords(t: RouteTarget): RouteOutcome {
  const collections = t.collection ? [t.collection] : [];
  const listed = hasListedIds(t.body);
  if (listed && !hasFilter(t.body)) {
    return { operation: 'delete', collections, bulk: false, reason: 'POST …/delete with ids and no filter deletes only the listed records.' };
  }
  let reason: string;
  if (!isJsonObject(t.body)) reason = 'POST …/delete without a JSON object body cannot be shown to name its records, so it counts as a bulk delete.';
  else if (hasFilter(t.body)) reason = 'POST …/delete with a where or where_document filter deletes every matching record: bulk delete.';
  else reason = 'POST …/delete without a non-empty list of ids is not bounded to listed records: bulk delete.';
  return { operation: 'delete', collections, bulk: true, reason };
}

export const ROUTES: readonly Readonly<Route>[] = deepFrozen([
  // Probes clients send on their own; nothing in them reveals or changes records.
  { method: 'GET', path: '/api/v2/heartbeat', endpoint: 'chroma.heartbeat', classify: fixed('meta', 'GET /api/v2/heartbeat is a liveness probe that returns only the server clock.') },
  { method: 'GET', path: '/api/v2/healthcheck', endpoint: 'chroma.healthcheck', classify: fixed('meta', 'GET /api/v2/healthcheck is a readiness probe that returns no data.') },
  { method: 'GET', path: '/api/v2/version', endpoint: 'chroma.version', classify: fixed('meta', 'GET /api/v2/version returns only the server version.') },
  {
    method: 'GET',
    path: '/api/v2/pre-flight-checks',
    endpoint: 'chroma.pre_flight_checks',
    classify: fixed('meta', 'GET /api/v2/pre-flight-checks returns server limits such as the batch size, which clients read before writing.'),
  },
  {
    method: 'GET',
    path: '/api/v2/auth/identity',
    endpoint: 'chroma.get_user_identity',
    classify: fixed('meta', "GET /api/v2/auth/identity returns the caller's own tenant and database names, which clients ask for on connect."),
  },
  // Server administration.
  { method: 'POST', path: '/api/v2/reset', endpoint: 'chroma.reset', classify: fixed('admin', 'POST /api/v2/reset erases every tenant, database and collection on the server: admin.') },
  { method: 'POST', path: '/api/v2/tenants', endpoint: 'chroma.create_tenant', classify: fixed('admin', 'POST /api/v2/tenants creates a tenant: server administration.') },
  {
    method: 'GET',
    path: '/api/v2/tenants/{tenant}',
    endpoint: 'chroma.get_tenant',
    // The Python client checks its tenant and database on every connect; as admin, no one could connect.
    classify: fixed('meta', 'GET /api/v2/tenants/{tenant} only confirms that a tenant exists, a check the Python client makes on every connect.'),
  },
  { method: 'PATCH', path: '/api/v2/tenants/{tenant}', endpoint: 'chroma.update_tenant', classify: fixed('admin', 'PATCH /api/v2/tenants/{tenant} changes a tenant: server administration.') },
  {
    method: 'GET',
    path: '/api/v2/tenants/{tenant}/databases',
    endpoint: 'chroma.list_databases',
    classify: fixed('read', 'GET /api/v2/tenants/{tenant}/databases lists database names and no records: read at connection level.'),
  },
  {
    method: 'POST',
    path: '/api/v2/tenants/{tenant}/databases',
    endpoint: 'chroma.create_database',
    classify: fixed('admin', 'POST /api/v2/tenants/{tenant}/databases creates a database, a container that per-collection rules cannot govern: admin.'),
  },
  {
    method: 'GET',
    path: P,
    endpoint: 'chroma.get_database',
    classify: fixed('meta', 'GET …/databases/{database} only confirms that a database exists, a check the Python client makes on every connect.'),
  },
  {
    method: 'DELETE',
    path: P,
    endpoint: 'chroma.delete_database',
    classify: fixed('admin', 'DELETE …/databases/{database} drops a database with every collection in it at once: admin.'),
  },
  // Collections as a whole.
  { method: 'GET', path: `${P}/collections`, endpoint: 'chroma.list_collections', classify: fixed('read', 'GET …/collections lists collection names and metadata, no records: read at connection level.') },
  { method: 'GET', path: `${P}/collections_count`, endpoint: 'chroma.count_collections', classify: fixed('read', 'GET …/collections_count returns the number of collections: read at connection level.') },
  { method: 'POST', path: `${P}/collections`, endpoint: 'chroma.create_collection', classify: createCollection },
  {
    method: 'GET',
    path: `${P}/collections/{collection_name}`,
    endpoint: 'chroma.get_collection',
    classify: fixed('read', 'GET …/collections/{name} returns the id, metadata and configuration of one collection, addressed by name: read.'),
  },
  {
    method: 'GET',
    path: `${P}/collections/by-id/{collection_id}`,
    endpoint: 'chroma.get_collection_by_id',
    classify: fixed('read', 'GET …/collections/by-id/{id} (Chroma 1.5) returns the name, metadata and configuration of one collection: read.'),
  },
  {
    method: 'GET',
    path: '/api/v2/collections/{crn}',
    endpoint: 'chroma.get_collection_by_crn',
    // The crn's first part is the tenant's resource name, which Chroma Cloud keeps apart from its id.
    classify: fixed('read', 'GET /api/v2/collections/{crn} (Chroma 1.5) returns one collection named tenant:database:collection: read.'),
  },
  { method: 'PUT', path: C, endpoint: 'chroma.update_collection', classify: updateCollection },
  {
    method: 'DELETE',
    path: `${P}/collections/{collection_name}`,
    endpoint: 'chroma.delete_collection',
    classify: fixed('schema', 'DELETE …/collections/{name} drops a collection with all its records, addressed by name: schema.'),
  },
  { method: 'POST', path: `${C}/fork`, endpoint: 'chroma.fork_collection', classify: forkCollection },
  {
    method: 'GET',
    path: `${C}/fork_count`,
    endpoint: 'chroma.fork_count',
    classify: fixed('read', 'GET …/fork_count (Chroma 1.5) returns how many forks a collection has: read.'),
  },
  {
    method: 'GET',
    path: `${C}/indexing_status`,
    endpoint: 'chroma.indexing_status',
    classify: fixed('read', 'GET …/indexing_status (Chroma 1.5) returns counts of indexed and pending operations of a collection: read.'),
  },
  // Functions (Chroma 1.5) run on the server over a collection's records and write into another collection.
  { method: 'POST', path: `${C}/functions/attach`, endpoint: 'chroma.attach_function', classify: attachFunction },
  {
    method: 'GET',
    path: `${C}/functions/{function_name}`,
    endpoint: 'chroma.get_attached_function',
    classify: fixed('read', "GET …/functions/{name} returns a function attached to the collection, with its output collection and parameters: read."),
  },
  { method: 'POST', path: `${C}/attached_functions/{name}/detach`, endpoint: 'chroma.detach_function', classify: detachFunction },
  // Records.
  { method: 'POST', path: `${C}/query`, endpoint: 'chroma.collection_query', classify: fixed('search', 'POST …/query finds the records nearest to query embeddings: search.') },
  { method: 'POST', path: `${C}/search`, endpoint: 'chroma.collection_search', classify: fixed('search', 'POST …/search (Chroma >= 1.1) ranks records by a search expression: search.') },
  { method: 'POST', path: `${C}/get`, endpoint: 'chroma.collection_get', classify: getRecords },
  { method: 'GET', path: `${C}/count`, endpoint: 'chroma.collection_count', classify: fixed('read', 'GET …/count returns the number of records in a collection: read.') },
  { method: 'POST', path: `${C}/add`, endpoint: 'chroma.collection_add', classify: fixed('write', 'POST …/add inserts records: write.') },
  { method: 'POST', path: `${C}/upsert`, endpoint: 'chroma.collection_upsert', classify: fixed('write', 'POST …/upsert inserts or overwrites records: write.') },
  { method: 'POST', path: `${C}/update`, endpoint: 'chroma.collection_update', classify: fixed('write', 'POST …/update overwrites existing records: write.') },
  { method: 'POST', path: `${C}/delete`, endpoint: 'chroma.collection_delete', classify: deleteRecords },
] satisfies Route[]);

function deepFrozen(routes: Route[]): readonly Readonly<Route>[] {
  return Object.freeze(routes.map((route) => Object.freeze(route)));
}
