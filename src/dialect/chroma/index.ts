import type { Dialect } from '../types';
import { classifyChromaRequest } from './classify';
import { chromaCollectionsInResponse, chromaRevealsCollections } from './collections-in-response';
import { describeChromaRequest } from './describe';
import { chromaErrorBody } from './error-body';
import { chromaListCollectionsTarget } from './list-collections-target';
import { chromaErrorRecords, chromaMaskableRecords, chromaMayHoldPersonalData } from './records';
import { chromaRecordsInResponse } from './volume';

/**
 * Chroma >= 1.0 over HTTP. Clients send their key as `x-chroma-token` (or as Authorization: Bearer,
 * which the gateway handles for every dialect).
 */
export const chromaDialect: Dialect = Object.freeze({
  name: 'chroma',
  tokenHeaders: Object.freeze(['x-chroma-token']),
  defaultCredentialHeader: 'x-chroma-token',
  classify: classifyChromaRequest,
  errorBody: chromaErrorBody,
  revealsCollections: chromaRevealsCollections,
  collectionsInResponse: chromaCollectionsInResponse,
  listCollectionsTarget: chromaListCollectionsTarget,
  mayHoldPersonalData: chromaMayHoldPersonalData,
  maskableRecords: chromaMaskableRecords,
  describeRequest: describeChromaRequest,
  maskableErrorRecords: chromaErrorRecords,
  recordsInResponse: chromaRecordsInResponse,
});
