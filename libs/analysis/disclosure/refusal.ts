import { ValidationError } from '@throughline/platform';

/** The disclosure rules that refuse a whole query rather than suppress cells of it. */
export type DisclosureRefusalRule = 'minimum-cohort' | 'differencing' | 'unprotectable';

/**
 * A query refused for disclosure (HTTP 400 through ValidationError, naming the field `cohort` and
 * the rule): the analyst can widen the cohort and ask again. The message never states the
 * cohort's size or the earlier one's, which would disclose what the rule protects.
 */
export class DisclosureRefusedError extends ValidationError {
  constructor(
    readonly rule: DisclosureRefusalRule,
    message: string,
  ) {
    super(message, [{ path: 'cohort', rule, message }]);
  }
}
