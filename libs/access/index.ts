export {
  claimsMappingOf,
  principalOf,
  type ClaimsMapping,
  type Organisation,
  type Principal,
} from './principal';
export { TokenVerifier, tokenVerifierSettings, type TokenVerifierSettings } from './token-verifier';
