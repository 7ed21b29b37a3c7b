/**
 * Claim of the Cognito ID token set by administrators for researchers whose identity the platform
 * has checked: the user pool defines it, handlers read it (verified researchers get the larger
 * upload quota), local mode's development users carry it.
 */
export const VERIFIED_CLAIM = 'custom:verified';
