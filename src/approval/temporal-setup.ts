import type { Connection } from '@temporalio/client';
import type { SearchAttributeType } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import { APPROVAL_SEARCH_KEYS } from '../../workflows/search-attributes';

/** Either connection kind: the client's Connection or the worker's NativeConnection. */
export interface OperatorConnection {
  operatorService: Connection['operatorService'];
}

export type SearchAttributeSetupCode = 'SEARCH_ATTRIBUTE_TYPE_CONFLICT' | 'SEARCH_ATTRIBUTES_NOT_REGISTERED';

/** Why the approval search attributes could not be made available; callers switch on `code`. */
export class SearchAttributeSetupError extends Error {
  readonly code: SearchAttributeSetupCode;

  constructor(code: SearchAttributeSetupCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'SearchAttributeSetupError';
    this.code = code;
  }
}

const IndexedValueType = temporal.api.enums.v1.IndexedValueType;
const INDEXED_TYPE: Record<SearchAttributeType, temporal.api.enums.v1.IndexedValueType> = {
  TEXT: IndexedValueType.INDEXED_VALUE_TYPE_TEXT,
  KEYWORD: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD,
  INT: IndexedValueType.INDEXED_VALUE_TYPE_INT,
  DOUBLE: IndexedValueType.INDEXED_VALUE_TYPE_DOUBLE,
  BOOL: IndexedValueType.INDEXED_VALUE_TYPE_BOOL,
  DATETIME: IndexedValueType.INDEXED_VALUE_TYPE_DATETIME,
  KEYWORD_LIST: IndexedValueType.INDEXED_VALUE_TYPE_KEYWORD_LIST,
};

// gRPC status codes (google.rpc.Code)
const ALREADY_EXISTS = 6;
const UNIMPLEMENTED = 12;
const grpcCode = (err: unknown): unknown => (err as { code?: unknown } | null)?.code;

export interface EnsureSearchAttributesResult {
  /** the attributes this call registered (empty when all were there) */
  added: string[];
}

/**
 * Registers the approval search attributes (SEARCH_ATTRIBUTES) in `namespace` through the operator
 * service, idempotently: present ones are checked for their type, missing ones added. The
 * time-skipping test server cannot list attributes; there each is added and "already exists" is fine.
 * Temporal Cloud registers attributes through its own API, not this one: register them there.
 */
export async function ensureSearchAttributes(connection: OperatorConnection, namespace: string): Promise<EnsureSearchAttributesResult> {
  const wanted = Object.values(APPROVAL_SEARCH_KEYS).map((key) => ({ name: key.name, type: key.type, indexed: INDEXED_TYPE[key.type] }));
  const operator = connection.operatorService;

  const listed = await operator.listSearchAttributes({ namespace }).then(
    (res) => res.customAttributes ?? {},
    (err: unknown) => {
      if (grpcCode(err) === UNIMPLEMENTED) return undefined;
      throw new SearchAttributeSetupError('SEARCH_ATTRIBUTES_NOT_REGISTERED', `Could not list the search attributes of namespace ${namespace}: check the address, the namespace and the operator permissions.`, { cause: err });
    },
  );

  if (listed === undefined) {
    const added: string[] = [];
    for (const attr of wanted) {
      try {
        await operator.addSearchAttributes({ namespace, searchAttributes: { [attr.name]: attr.indexed } });
        added.push(attr.name);
      } catch (err) {
        if (grpcCode(err) !== ALREADY_EXISTS) throw registrationFailed(namespace, [attr.name], err);
      }
    }
    return { added };
  }

  const check = (present: Record<string, temporal.api.enums.v1.IndexedValueType>) => {
    for (const attr of wanted) {
      const type = present[attr.name];
      if (type !== undefined && type !== attr.indexed) {
        throw new SearchAttributeSetupError(
          'SEARCH_ATTRIBUTE_TYPE_CONFLICT',
          `Search attribute ${attr.name} exists in namespace ${namespace} with another type; vecgate needs ${attr.type}. Remove it (temporal operator search-attribute remove) or use another namespace.`,
        );
      }
    }
  };
  check(listed);
  const missing = wanted.filter((attr) => listed[attr.name] === undefined);
  if (missing.length === 0) return { added: [] };
  try {
    await operator.addSearchAttributes({ namespace, searchAttributes: Object.fromEntries(missing.map((a) => [a.name, a.indexed])) });
  } catch (err) {
    // another worker may have registered them at the same moment: what counts is that they exist now
    if (grpcCode(err) !== ALREADY_EXISTS) throw registrationFailed(namespace, missing.map((a) => a.name), err);
    const again = await operator.listSearchAttributes({ namespace });
    check(again.customAttributes ?? {});
    if (missing.some((a) => again.customAttributes?.[a.name] === undefined)) throw registrationFailed(namespace, missing.map((a) => a.name), err);
  }
  return { added: missing.map((a) => a.name) };
}

function registrationFailed(namespace: string, names: string[], cause: unknown): SearchAttributeSetupError {
  return new SearchAttributeSetupError(
    'SEARCH_ATTRIBUTES_NOT_REGISTERED',
    `Could not register search attributes ${names.join(', ')} in namespace ${namespace}: register them with \`temporal operator search-attribute create\` or give the worker operator permissions.`,
    { cause },
  );
}
