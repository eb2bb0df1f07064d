/**
 * The single import of the generated N-API loader. Everything native is reached through here,
 * so the rest of the facade can be read without knowing how the addon is found.
 * @internal
 */
import * as native from '../index.js'

export = native
