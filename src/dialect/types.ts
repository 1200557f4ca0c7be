import type { ScannedJson } from '../masking/json-scan';
import type { RecordView } from '../masking/types';

/**
 * What a dialect tells the gateway about a request: which operation class it is and which
 * collections it touches. Pure data in, pure data out; no I/O.
 */
export const OPERATION_CLASSES = ['meta', 'search', 'read', 'export', 'write', 'delete', 'schema', 'snapshot', 'admin'] as const;
/**
 * `meta` is the harmless part of DIALECTS.md's "admin": health, version and identity probes that
 * client libraries send on their own. `admin` is everything that administers the server.
 */
export type OperationClass = (typeof OPERATION_CLASSES)[number];

export const DIALECT_NAMES = ['chroma'] as const;
export type DialectName = (typeof DIALECT_NAMES)[number];

/** The request as the gateway has parsed it; the connection's routing prefix is already removed. */
export interface RequestFacts {
  /** upper case */
  method: string;
  /** normalised absolute path without query, e.g. /api/v2/heartbeat */
  path: string;
  /** decoded path segments of `path` */
  segments: readonly string[];
  query: URLSearchParams;
  /** the parsed JSON body, or undefined when the body is empty or not JSON */
  body: unknown;
}

/** A collection as the request names it: data operations in Chroma use an id, others a name. */
export type CollectionRef =
  | { kind: 'name'; name: string; tenant?: string; database?: string }
  | { kind: 'id'; id: string; tenant?: string; database?: string };

/**
 * Chroma's default tenant and database: what a policy rule that names no tenants or databases
 * covers, so a rule written for one database never reaches another by accident.
 */
export const DEFAULT_SCOPE = Object.freeze({ tenant: 'default_tenant', database: 'default_database' });

/** The tenant and database a request addresses, as far as its path names them. */
export interface RequestScope {
  tenant?: string;
  database?: string;
}

export interface Classification {
  /** stable name of the endpoint, e.g. chroma.collection_get */
  endpoint: string;
  operation: OperationClass;
  /** the collections the request touches; empty for a connection-level request */
  collections: CollectionRef[];
  /** true when the request reaches many records at once (bulk export, filtered delete) */
  bulk: boolean;
  /** one sentence: why the request has this class */
  reason: string;
  /** the tenant/database the path names; policy judges the request in this scope */
  scope?: RequestScope;
  /**
   * A listing of collections (or their count): the gateway answers it from the full listing,
   * filtered by policy, with the caller's page applied after filtering.
   */
  listing?: { kind: 'list' | 'count'; limit?: number; offset: number };
  /** how many records a read or search asks for (unbounded: no limit); absent when it returns no records */
  requested?: RequestedRecords;
  /** what the request's filters test; absent without a filter */
  filters?: FilterTests;
}

export type RequestedRecords = number | 'unbounded';

/** The parts of records a filter looks at: a filter on a masked value answers guesses about it. */
export interface FilterTests {
  /** metadata keys tested, with any operator, at any depth of $and/$or */
  metadataKeys: string[];
  /** operators applied to the document text ($contains, $regex, ...) */
  documentOperators: string[];
  /** a filter of a shape the dialect cannot read: it may test anything */
  unreadable: boolean;
}

export type ClassifyResult =
  | { known: true; classification: Classification }
  | { known: false; reason: string };

/** A collection's id and name as a response reveals them. */
export interface CollectionIdentity {
  id: string;
  name: string;
  tenant?: string;
  database?: string;
}

/**
 * One part of a request as an approver is shown it (THREATS 34). The dialect picks the parts that
 * say what the request does; approval/rendering.ts masks and prints them.
 */
export type RequestDetail =
  /** JSON shown in full (filters): what it matches is what the approver must see */
  | { label: string; exact: unknown }
  /** JSON shown summarised: long strings and lists cut, number vectors shown by their length */
  | { label: string; summary: unknown }
  /** the first records a request writes, each masked as a record of this dialect's responses is */
  | { label: string; records: Array<{ id?: unknown; data: Record<string, unknown> }>; total: number }
  /** the dialect's own words about the request (counts, dimensions); never text from the caller */
  | { label: string; note: string };

export interface ErrorBody {
  contentType: string;
  body: string;
}

export interface Dialect {
  readonly name: DialectName;
  /** headers in which this database's standard clients send an API key; the caller's token may arrive there */
  readonly tokenHeaders: readonly string[];
  /** the header that carries the gateway's own credential upstream, unless the connection says otherwise */
  readonly defaultCredentialHeader: string;
  classify(facts: RequestFacts): ClassifyResult;
  /** an error in the database's own shape, so its client libraries raise it with the message */
  errorBody(error: { status: number; code: string; message: string }): ErrorBody;
  /** true when a successful response to this request names collections (create, get, list, fork): the gateway then reads it to learn ids */
  revealsCollections(classification: Classification): boolean;
  /** id/name pairs of collections that a successful response reveals */
  collectionsInResponse(classification: Classification, body: unknown): CollectionIdentity[];
  /**
   * The GET request target (path and query) that lists one page of collections of a tenant/database,
   * which the gateway sends with its own credential to resolve an unknown collection id.
   * Undefined for dialects that address collections by name only.
   */
  listCollectionsTarget(scope: { tenant?: string; database?: string }, page: { limit: number; offset: number }): string | undefined;
  /**
   * True when this answer (by status) may hold personal data: only such answers are read and masked
   * for a masked caller; the rest (heartbeat, version, counts, acks) stream through unmasked.
   */
  mayHoldPersonalData(classification: Classification, status: number): boolean;
  /**
   * Parts of a successful response that may hold personal data, one view per record, over the
   * scanned JSON; [] when none; undefined for a shape this endpoint does not return (the gateway then
   * refuses the response).
   */
  maskableRecords(classification: Classification, json: ScannedJson): RecordView[] | undefined;
  /** Record-shaped parts of an error body, so designated fields apply to an error that echoes a record. */
  maskableErrorRecords(json: ScannedJson): RecordView[];
  /** what the parsed request body asks for, as approvers are shown it; [] for no body */
  describeRequest(classification: Classification, body: unknown): RequestDetail[];
  /** how many records a successful answer holds; undefined when it holds none or its shape is unknown */
  recordsInResponse(classification: Classification, body: unknown): number | undefined;
}
