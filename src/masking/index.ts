export { DETECTOR_TYPES, type DetectorType, type Span } from './detectors';
export {
  MASK_STYLES,
  type MaskStyle,
  maskingRuleSchema,
  type MaskingRule,
  type MaskingRuleInput,
  maskingSettingsSchema,
  type MaskingSettings,
  maskingSchema,
  type MaskingConfig,
  DEFAULT_MASKING_MAX_BODY_BYTES,
} from './config';
export { compileMasking, type Masker, type MaskGuard, type MaskPlan, type MaskQuestion, type CompileOptions } from './masker';
export { maskHttpResponse, MASKING_FAILED, type BufferedResponse, type MaskedResponse, type MaskResponseOptions } from './response';
export { type RecordView, type MaskStats, emptyStats, addStats } from './types';
export { scanJson, splice, type ScannedJson, type JsonNode, type JsonEdit, JsonScanError } from './json-scan';
