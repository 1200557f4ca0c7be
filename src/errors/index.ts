export { ERROR_STATUS, type ErrorCode, statusOf } from './codes';
export { VecgateError, isVecgateError, asVecgateError } from './vecgate-error';
