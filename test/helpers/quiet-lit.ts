// Lit 7's constants package prints depd deprecation notices about its own renamed exports
// when first used; they say nothing about our code. Imported first by the access tests so
// the variable is set before any Lit module runs (depd reads it when it would print).
const env = process.env
env['NO_DEPRECATION'] = [env['NO_DEPRECATION'], 'lit-js-sdk:constants:errors', 'lit-js-sdk:constants:constants'].filter(Boolean).join(',')
